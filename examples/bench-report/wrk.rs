//! The "HTTP under wrk" part of the bench report: `examples/http_server.rs`
//! on keen, tokio and tokio-per-core (2 workers each), loaded by a real
//! `wrk` on loopback at 1, 64 and 256 connections, plain and with 16
//! pipelined requests; requests/s and latency p50/p99 (medians of 3 runs), and issue
//! 16's targets. When `wrk` is not installed the section says how to
//! install it (and `KEEN_REQUIRE_TOOLS=1` makes that a failure).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const RUNTIMES: [&str; 3] = ["keen", "tokio", "tokio-per-core"];
const CONNECTIONS: [u32; 3] = [1, 64, 256];
const PIPELINE: usize = 16;
/// Runs per cell; the table shows each figure's median (one short run on
/// a shared 2-core VM moves ±10%).
const REPEATS: usize = 3;
/// The section's bounds in `docs/benchmarks.md`, so `--no-run` keeps it.
pub const START: &str = "<!-- wrk: start -->";
pub const END: &str = "<!-- wrk: end -->";

/// One wrk run.
#[derive(Debug, Clone, Copy)]
struct Load {
    requests_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
}

/// The rendered section (between `START` and `END`), or an error when
/// the tools are required and missing or a run failed.
pub fn section(root: &Path, seconds: u32) -> Result<String, String> {
    if Command::new("wrk").arg("-v").output().is_err() {
        let why = "wrk is not installed (apt-get install -y wrk)";
        if std::env::var_os("KEEN_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            return Err(why.to_owned());
        }
        eprintln!("skipping HTTP under wrk: {why}");
        return Ok(format!(
            "{START}\n## HTTP under wrk\n\nNot measured: {why}.\n{END}\n"
        ));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--example", "http_server"])
        .status()
        .map_err(|e| e.to_string())?;
    if !built.success() {
        return Err("could not build examples/http_server.rs".to_owned());
    }
    let server = root.join("target/release/examples/http_server");
    let script = root.join("target/wrk-pipeline.lua");
    std::fs::write(&script, pipeline_script()).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for pipelined in [false, true] {
        for conns in CONNECTIONS {
            let mut loads = Vec::new();
            for runtime in RUNTIMES {
                let script = pipelined.then_some(&*script);
                let runs = (0..REPEATS)
                    .map(|_| measure(&server, runtime, conns, script, seconds))
                    .collect::<Result<Vec<_>, _>>()?;
                let load = median(&runs);
                eprintln!(
                    "wrk {runtime} c={conns} pipelined={pipelined}: {load:?} (median of {REPEATS})"
                );
                loads.push(load);
            }
            rows.push((conns, pipelined, loads));
        }
    }
    Ok(render(&rows, seconds))
}

/// Each figure's median over `runs`.
fn median(runs: &[Load]) -> Load {
    let mid =
        |f: fn(&Load) -> f64| crate::remeasure::median(&runs.iter().map(f).collect::<Vec<_>>());
    Load {
        requests_per_sec: mid(|l| l.requests_per_sec),
        p50_us: mid(|l| l.p50_us),
        p99_us: mid(|l| l.p99_us),
    }
}

fn pipeline_script() -> String {
    format!(
        "init = function(args)\n  local r = {{}}\n  for i = 1, {PIPELINE} do r[i] = wrk.format(nil, \"/\") end\n  req = table.concat(r)\nend\nrequest = function()\n  return req\nend\n"
    )
}

/// Kills the server when the measurement ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn measure(
    server: &Path,
    runtime: &str,
    conns: u32,
    script: Option<&Path>,
    seconds: u32,
) -> Result<Load, String> {
    let mut child = Server(
        Command::new(server)
            .args(["--runtime", runtime, "--workers", "2", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let stdout = child.0.stdout.take().ok_or("no server stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("http_server {runtime} said {line:?}"))?
        .to_owned();
    let threads = conns.min(2).to_string();
    let conns_arg = conns.to_string();
    let duration = format!("{seconds}s");
    let url = format!("http://{addr}/");
    let mut args = vec![
        "-t",
        &threads,
        "-c",
        &conns_arg,
        "-d",
        &duration,
        "--latency",
    ];
    let script_arg;
    if let Some(script) = script {
        script_arg = script.display().to_string();
        args.extend(["-s", &script_arg]);
    }
    args.push(&url);
    let out = Command::new("wrk")
        .args(&args)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).ok_or_else(|| format!("could not read wrk's output:\n{text}"))
}

/// Requests/s and the p50/p99 of wrk's `--latency` output.
fn parse(text: &str) -> Option<Load> {
    let requests_per_sec = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let percentile = |p: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(p))
            .and_then(|v| micros(v.trim()))
    };
    Some(Load {
        requests_per_sec,
        p50_us: percentile("50%")?,
        p99_us: percentile("99%")?,
    })
}

/// wrk's `123.45us` / `1.20ms` / `2.00s` in microseconds.
fn micros(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n,
        "ms" => n * 1e3,
        "s" => n * 1e6,
        _ => return None,
    })
}

fn fmt_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn latency(pipelined: bool, us: f64) -> String {
    if pipelined {
        "–".to_owned()
    } else {
        fmt_us(us)
    }
}

fn render(rows: &[(u32, bool, Vec<Load>)], seconds: u32) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "{START}\n## HTTP under wrk\n\n\
         `examples/http_server.rs` (hyper 1.x HTTP/1.1, one hello-world handler) on\n\
         keen, tokio multi-thread and one current-thread tokio runtime per core on\n\
         `SO_REUSEPORT` listeners, 2 workers each, loaded by `wrk` on loopback for\n\
         {seconds} s per run, each figure the median of {REPEATS} runs (wrk shares the 2 cores with the server). Targets (issue 16):\n\
         keen ≥ 1.15× tokio in requests/s and ≤ its p99, and ≥ tokio-per-core.\n\
         wrk times only the first response of a pipelined batch, so pipelined rows\n\
         carry no latency (and no p99 target).\n\n\
         | connections | pipelined | keen req/s | tokio req/s | per-core req/s | keen / tokio | keen p50 / p99 | tokio p50 / p99 | per-core p50 / p99 | targets met |\n\
         |---|---|---|---|---|---|---|---|---|---|"
    );
    for (conns, pipelined, loads) in rows {
        let [keen, tokio, per_core] = [loads[0], loads[1], loads[2]];
        let ratio = keen.requests_per_sec / tokio.requests_per_sec;
        // wrk times only the first response of a pipelined batch (the
        // others read 0 µs): no latency, and no p99 target, for those rows.
        let met = [
            ratio >= 1.15,
            *pipelined || keen.p99_us <= tokio.p99_us,
            keen.requests_per_sec >= per_core.requests_per_sec,
        ];
        let verdict = match met {
            [true, true, true] => "all".to_owned(),
            _ => {
                let names = ["≥1.15×", "p99", "≥ per-core"];
                let missed: Vec<&str> = names
                    .iter()
                    .zip(met)
                    .filter(|(_, ok)| !ok)
                    .map(|(n, _)| *n)
                    .collect();
                format!("**missed: {}**", missed.join(", "))
            }
        };
        let _ = writeln!(
            md,
            "| {conns} | {} | {:.0} | {:.0} | {:.0} | {ratio:.2}× | {} / {} | {} / {} | {} / {} | {verdict} |",
            if *pipelined {
                PIPELINE.to_string()
            } else {
                "no".to_owned()
            },
            keen.requests_per_sec,
            tokio.requests_per_sec,
            per_core.requests_per_sec,
            latency(*pipelined, keen.p50_us),
            latency(*pipelined, keen.p99_us),
            latency(*pipelined, tokio.p50_us),
            latency(*pipelined, tokio.p99_us),
            latency(*pipelined, per_core.p50_us),
            latency(*pipelined, per_core.p99_us),
        );
    }
    let _ = writeln!(md, "{END}");
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "  Latency Distribution\n     50%  274.00us\n     75%    1.20ms\n     90%    2.00ms\n     99%    4.43ms\n  1000 requests in 1.00s\nRequests/sec: 103579.77\n";
        let load = parse(text).unwrap();
        assert_eq!(load.requests_per_sec, 103579.77);
        assert_eq!(load.p50_us, 274.0);
        assert_eq!(load.p99_us, 4430.0);
        assert_eq!(micros("2.5s"), Some(2.5e6));
    }

    #[test]
    fn medians_are_taken_per_figure() {
        let load = |r, p50, p99| Load {
            requests_per_sec: r,
            p50_us: p50,
            p99_us: p99,
        };
        let m = median(&[
            load(3.0, 10.0, 900.0),
            load(1.0, 30.0, 100.0),
            load(2.0, 20.0, 500.0),
        ]);
        assert_eq!((m.requests_per_sec, m.p50_us, m.p99_us), (2.0, 20.0, 500.0));
    }
}
