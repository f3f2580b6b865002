//! The main job: `cargo run --release --example repro`.
//!
//! Runs every scenario of the gather/timeout reproduction suite
//! (`tests/repro/`) on current-thread and multi-thread(2), eager on and off,
//! plus the tokio port, and prints a table scenario × configuration →
//! pass/fail with its time, then a one-line summary. Exits 0 only if every
//! keen cell passes. If `python3` can import `asynkit`, it also runs the
//! original Python reproduction (`docs/repro/seed_asynkit.py`) and prints
//! its outcome as the contrast; otherwise it says how to enable that. If
//! `redis-server` is installed, rows 25 to 27 run the seed's pattern against
//! a real Redis started on a free loopback port (`tests/repro/redis.rs`).
//!
//! Options: `--filter NAME` (scenarios whose name contains NAME), `--json`
//! (one JSON document instead of the table).

#[path = "../tests/repro/mod.rs"]
mod repro;

use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use keen_suite::tools::RedisServer;
use repro::{CONFIGS, Check, SCENARIOS, TOKIO_SCENARIOS, config_name, timed};

/// A row run against a real `redis-server` (issue 16).
struct RedisRow {
    number: u32,
    name: &'static str,
    expected: &'static str,
    run: fn(keen_suite::Config, std::net::SocketAddr) -> Check,
}

const REDIS_ROWS: [RedisRow; 3] = [
    RedisRow {
        number: 25,
        name: "seed_over_redis",
        expected: "100 pooled children, timeout(0) stale check + ECHO on real Redis: each its own reply",
        run: repro::redis::seed_over_redis,
    },
    RedisRow {
        number: 26,
        name: "timeouts_over_redis",
        expected: "10,000 commands under timeout(1 ms), slow ones mixed in: each timeout the child's own",
        run: repro::redis::timeouts_over_redis,
    },
    RedisRow {
        number: 27,
        name: "redis_rs_over_keen",
        expected: "redis-rs multiplexed on a keen socket, timeout(0) probe then ECHO: each its own reply",
        run: repro::redis::redis_rs_over_keen,
    },
];

/// One cell of the table.
struct Cell {
    config: String,
    check: Check,
    time: Duration,
}

/// One row: a scenario and its cells.
struct Row {
    number: u32,
    name: &'static str,
    expected: &'static str,
    runtime: &'static str,
    cells: Vec<Cell>,
}

/// What the Python contrast did.
enum Python {
    Ran(String),
    Missing(String),
}

struct Options {
    filter: Option<String>,
    json: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        filter: None,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => options.json = true,
            "--filter" => {
                options.filter = Some(args.next().ok_or("--filter needs a NAME")?);
            }
            "-h" | "--help" => {
                return Err("usage: repro [--filter NAME] [--json]".to_owned());
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(options)
}

fn selected(name: &str, options: &Options) -> bool {
    options.filter.as_deref().is_none_or(|f| name.contains(f))
}

/// One cell per keen configuration, each a timed run of `run`.
fn keen_cells(run: impl Fn(keen_suite::Config) -> Check) -> Vec<Cell> {
    CONFIGS
        .iter()
        .map(|&cfg| {
            let (check, time) = timed(|| run(cfg));
            Cell {
                config: config_name(cfg),
                check,
                time,
            }
        })
        .collect()
}

fn run_all(options: &Options, redis: Option<&RedisServer>) -> Vec<Row> {
    let mut rows = Vec::new();
    for s in SCENARIOS.iter().filter(|s| selected(s.name, options)) {
        rows.push(Row {
            number: s.number,
            name: s.name,
            expected: s.expected,
            runtime: "keen",
            cells: keen_cells(s.run),
        });
    }
    if let Some(server) = redis {
        for row in REDIS_ROWS.iter().filter(|r| selected(r.name, options)) {
            rows.push(Row {
                number: row.number,
                name: row.name,
                expected: row.expected,
                runtime: "keen",
                cells: keen_cells(|cfg| (row.run)(cfg, server.addr())),
            });
        }
    }
    for s in TOKIO_SCENARIOS.iter().filter(|s| selected(s.name, options)) {
        let cells = [false, true]
            .into_iter()
            .map(|multi| {
                let (check, time) = timed(|| (s.run)(multi));
                Cell {
                    config: if multi { "tokio mt2" } else { "tokio ct" }.to_owned(),
                    check,
                    time,
                }
            })
            .collect();
        rows.push(Row {
            number: s.number,
            name: s.name,
            expected: s.expected,
            runtime: "tokio",
            cells,
        });
    }
    rows
}

/// Runs the Python reproduction if `python3` can import asynkit.
fn python_contrast() -> Python {
    run_python("seed_asynkit.py", &[], "asynkit", "pip install asynkit")
}

/// Runs redis-py's reported failure against `server` if `python3` can
/// import redis-py and asynkit.
fn redis_contrast(server: &RedisServer) -> Python {
    let port = server.addr().port().to_string();
    run_python(
        "seed_redis.py",
        &[&port],
        "asynkit, redis",
        "pip install redis==5.0.3 asynkit",
    )
}

/// Runs `docs/repro/SCRIPT ARGS` if `python3` can import `modules`.
fn run_python(script: &str, args: &[&str], modules: &str, install: &str) -> Python {
    let script = format!("{}/docs/repro/{script}", env!("CARGO_MANIFEST_DIR"));
    let probe = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output();
    match probe {
        Err(_) => Python::Missing("python3 not found".to_owned()),
        Ok(out) if !out.status.success() => {
            Python::Missing(format!("python3 cannot import {modules} ({install})"))
        }
        Ok(_) => match Command::new("python3").arg(&script).args(args).output() {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).trim_end().to_owned();
                let err = String::from_utf8_lossy(&out.stderr);
                if !out.status.success() {
                    let _ = write!(text, "\n(the script failed: {})", err.trim_end());
                }
                Python::Ran(text)
            }
            Err(e) => Python::Missing(format!("could not run {script}: {e}")),
        },
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_table(rows: &[Row], python: &Python, redis: Option<&Python>, total: Duration) {
    println!("keen reproduction suite: asyncio.timeout() under eager task factories, in Rust");
    println!();
    let configs: Vec<String> = CONFIGS.iter().map(|&c| config_name(c)).collect();
    print!("{:>3}  {:<36}", "#", "scenario");
    for c in configs
        .iter()
        .chain(["tokio ct".to_owned(), "tokio mt2".to_owned()].iter())
    {
        print!(" {c:>14}");
    }
    println!();
    for row in rows {
        print!("{:>3}  {:<36}", row.number, row.name);
        if row.runtime == "tokio" {
            print!("{}", " ".repeat(15 * configs.len()));
        }
        for cell in &row.cells {
            let verdict = if cell.check.is_ok() { "pass" } else { "FAIL" };
            print!(" {:>14}", format!("{verdict} {:.1}ms", ms(cell.time)));
        }
        println!();
    }
    let failures: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            row.cells.iter().filter_map(move |cell| {
                cell.check.as_ref().err().map(|e| {
                    format!(
                        "  {} {} on {}: {e}\n    expected: {}",
                        row.number, row.name, cell.config, row.expected
                    )
                })
            })
        })
        .collect();
    if !failures.is_empty() {
        println!();
        println!("failures:");
        for f in &failures {
            println!("{f}");
        }
    }
    println!();
    let (keen_pass, keen_total) = count(rows, "keen");
    let (tokio_pass, tokio_total) = count(rows, "tokio");
    println!(
        "summary: {keen_pass}/{keen_total} keen cells pass ({} scenarios x {} configurations); \
         tokio port {tokio_pass}/{tokio_total}; {:.2} s",
        rows.iter().filter(|r| r.runtime == "keen").count(),
        CONFIGS.len(),
        total.as_secs_f64()
    );
    println!();
    match python {
        Python::Ran(text) => {
            println!("the original bug, in Python (docs/repro/seed_asynkit.py):");
            for line in text.lines() {
                println!("  {line}");
            }
            println!(
                "keen, same story (scenario 1 above): each child gets its own Elapsed; the parent is untouched."
            );
        }
        Python::Missing(why) => {
            println!("Python contrast not run: {why}.");
            println!(
                "  To see the original bug beside keen: pip install asynkit, then run this again."
            );
        }
    }
    match redis {
        Some(Python::Ran(text)) => {
            println!();
            println!(
                "the reported failure, redis-py on the same server (docs/repro/seed_redis.py):"
            );
            for line in text.lines() {
                println!("  {line}");
            }
            println!(
                "keen, same pattern (rows 25 to 27 above): every child gets its own reply; the parent is untouched."
            );
        }
        Some(Python::Missing(why)) => {
            println!();
            println!("redis-py contrast not run: {why}.");
        }
        None => {}
    }
}

fn count(rows: &[Row], runtime: &str) -> (usize, usize) {
    let cells = rows
        .iter()
        .filter(|r| r.runtime == runtime)
        .flat_map(|r| &r.cells);
    cells.fold((0, 0), |(pass, total), c| {
        (pass + usize::from(c.check.is_ok()), total + 1)
    })
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn print_json(rows: &[Row], python: &Python, redis: Option<&Python>, total: Duration) {
    let mut out = String::from("{\"scenarios\":[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"number\":{},\"name\":{},\"runtime\":{},\"expected\":{},\"results\":[",
            row.number,
            json_str(row.name),
            json_str(row.runtime),
            json_str(row.expected)
        );
        for (j, cell) in row.cells.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let error = match &cell.check {
                Ok(()) => "null".to_owned(),
                Err(e) => json_str(e),
            };
            let _ = write!(
                out,
                "{{\"config\":{},\"pass\":{},\"ms\":{:.3},\"error\":{error}}}",
                json_str(&cell.config),
                cell.check.is_ok(),
                ms(cell.time)
            );
        }
        out.push_str("]}");
    }
    let (keen_pass, keen_total) = count(rows, "keen");
    let (tokio_pass, tokio_total) = count(rows, "tokio");
    let as_json = |python: &Python| match python {
        Python::Ran(text) => format!("{{\"ran\":true,\"output\":{}}}", json_str(text)),
        Python::Missing(why) => format!("{{\"ran\":false,\"reason\":{}}}", json_str(why)),
    };
    let python_redis = redis.map_or_else(|| "null".to_owned(), as_json);
    let python = as_json(python);
    let _ = write!(
        out,
        "],\"summary\":{{\"keen_pass\":{keen_pass},\"keen_cells\":{keen_total},\
         \"tokio_pass\":{tokio_pass},\"tokio_cells\":{tokio_total},\"seconds\":{:.3}}},\
         \"python\":{python},\"python_redis\":{python_redis}}}",
        total.as_secs_f64()
    );
    println!("{out}");
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // Some scenarios panic on purpose (a panicking child must reach its
    // JoinHandle); keep the default hook's messages out of the table.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // Started before the quiet panic hook: with KEEN_REQUIRE_TOOLS=1 a
    // missing server stops the run with its message.
    let redis = RedisServer::start();
    if redis.is_none() {
        println!(
            "Redis row not run: redis-server not installed (apt-get install -y redis-server)."
        );
    }
    let start = Instant::now();
    let rows = run_all(&options, redis.as_ref());
    let total = start.elapsed();
    std::panic::set_hook(default_hook);
    if rows.is_empty() {
        eprintln!("no scenario matches the filter");
        return ExitCode::from(2);
    }
    let python = python_contrast();
    let python_redis = redis.as_ref().map(redis_contrast);
    if options.json {
        print_json(&rows, &python, python_redis.as_ref(), total);
    } else {
        print_table(&rows, &python, python_redis.as_ref(), total);
    }
    // CI installs the Python side too: there, not running it is a failure.
    let contrasts = [Some(&python), python_redis.as_ref()];
    if keen_suite::tools::tools_required()
        && contrasts
            .iter()
            .flatten()
            .any(|p| matches!(p, Python::Missing(_)))
    {
        eprintln!("KEEN_REQUIRE_TOOLS=1: a Python contrast did not run");
        return ExitCode::FAILURE;
    }
    let (keen_pass, keen_total) = count(&rows, "keen");
    if keen_pass == keen_total {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
