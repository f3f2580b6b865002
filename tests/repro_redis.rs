//! Rows 25 to 27 of the reproduction suite against a real `redis-server`
//! (started here on a free loopback port), on every configuration. Skipped
//! with a line saying how to install it when `redis-server` is missing,
//! unless `KEEN_REQUIRE_TOOLS=1` (CI), which makes that a failure.

mod repro;

use std::net::SocketAddr;

use keen_suite::Config;
use keen_suite::tools::RedisServer;

/// Runs `row` on every configuration against a server of its own.
fn on_real_redis(row: fn(Config, SocketAddr) -> repro::Check) {
    let Some(server) = RedisServer::start() else {
        return;
    };
    for cfg in repro::CONFIGS {
        if let Err(why) = row(cfg, server.addr()) {
            panic!("{}: {why}", repro::config_name(cfg));
        }
    }
}

#[test]
fn the_seed_pattern_over_real_redis_gives_every_child_its_own_reply() {
    on_real_redis(repro::redis::seed_over_redis);
}

#[test]
fn ten_thousand_commands_under_a_1ms_timeout_each_time_out_only_in_their_own_child() {
    on_real_redis(repro::redis::timeouts_over_redis);
}

#[test]
fn redis_rs_on_a_keen_socket_gives_every_child_its_own_reply() {
    on_real_redis(repro::redis::redis_rs_over_keen);
}
