//! The bench report: `cargo run --release --example bench-report [-- --quick]`.
//!
//! Runs every criterion bench of the suite (each workload on keen, on tokio
//! and, for most, on smol in the same run), measures the peak RSS of 1M
//! idle tasks on keen and tokio (`examples/idle_tasks.rs`, from outside,
//! through `wait4`), reads criterion's estimates from `target/criterion`,
//! and writes `docs/benchmarks.md` (a table per group: keen beside each
//! peer, a row per peer, and the ratio peer/keen, above 1 when keen is
//! faster; the targets of issue 7 against tokio and keen ahead of smol,
//! met or missed; the machine and the date) and `docs/benchmarks.svg` (the
//! ratios as bars, `chart.rs`). Pairing and targets are `pairs.rs`.
//!
//! It also runs `wrk` against `examples/http_server.rs` on keen, tokio and
//! tokio-per-core (`wrk.rs`) for the "HTTP under wrk" section.
//!
//! Options: `--quick` (criterion's quick mode with short warm-ups: the
//! whole run under 5 minutes on 2 cores), `--no-run` (rebuild the report
//! from the last results without running anything), `--bench NAME` (only
//! that bench; repeatable). The groups with a target that came out near
//! its bound, or with a cell whose samples spread widely, are measured
//! twice more and reported as medians
//! (`remeasure.rs`; not in `--quick`); `--remeasure` does only that, on
//! the last results (the memory and HTTP figures are kept, as with
//! `--no-run`). Text below the generated part of `docs/benchmarks.md` (the
//! findings, written by hand) is kept.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};

mod chart;
mod pairs;
mod remeasure;
mod wrk;

use pairs::{Estimate, PEERS, Pair, pair_up, target};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Everything after this line of `docs/benchmarks.md` is hand-written.
const KEEP_MARKER: &str = "<!-- end of generated report: hand-written findings below are kept -->";

struct Options {
    quick: bool,
    run: bool,
    /// Re-measure the uncertain groups: near their target, or bimodal (`remeasure.rs`).
    remeasure: bool,
    benches: Vec<String>,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if options.run {
        if let Err(e) = run_benches(&options) {
            eprintln!("bench run failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let memory = if options.run {
        measure_memory()
    } else {
        previous_memory()
    };
    let criterion = Path::new(ROOT).join("target/criterion");
    if options.remeasure {
        let settled = remeasure::settle(Path::new(ROOT), &bench_list(&options), || {
            read_estimates(&criterion).unwrap_or_default()
        });
        if let Err(e) = settled {
            eprintln!("re-measuring the uncertain groups failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut estimates = match read_estimates(&criterion) {
        Ok(e) if !e.is_empty() => e,
        Ok(_) => {
            eprintln!("no criterion results under target/criterion: run without --no-run");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("reading criterion results: {e}");
            return ExitCode::FAILURE;
        }
    };
    let medians = remeasure::apply(Path::new(ROOT), &mut estimates);
    let pairs = pair_up(&estimates);
    let svg = chart::render_svg(&pairs, memory.as_ref());
    let md = render_markdown(&estimates, &pairs, &medians, memory.as_ref(), &options);
    let docs = Path::new(ROOT).join("docs");
    let path = docs.join("benchmarks.md");
    let old = fs::read_to_string(&path).unwrap_or_default();
    let http = if options.run {
        match wrk::section(Path::new(ROOT), if options.quick { 2 } else { 8 }) {
            Ok(section) => section,
            Err(e) => {
                eprintln!("HTTP under wrk failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        previous_section(&old, wrk::START, wrk::END).unwrap_or_default()
    };
    let kept = old
        .split_once(KEEP_MARKER)
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_else(|| "\n\n## Findings\n\n(none recorded yet)\n".to_owned());
    let written = fs::write(&path, format!("{md}{http}\n{KEEP_MARKER}{kept}"))
        .and_then(|()| fs::write(docs.join("benchmarks.svg"), svg));
    if let Err(e) = written {
        eprintln!("writing the report: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "wrote docs/benchmarks.md and docs/benchmarks.svg ({} pairs)",
        pairs.len()
    );
    ExitCode::SUCCESS
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        run: true,
        remeasure: true,
        benches: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                options.quick = true;
                options.remeasure = false;
            }
            "--no-run" => {
                options.run = false;
                options.remeasure = false;
            }
            "--remeasure" => options.run = false,
            "--bench" => options
                .benches
                .push(args.next().ok_or("--bench needs a NAME")?),
            _ => {
                return Err(
                    "usage: bench-report [--quick] [--no-run] [--remeasure] [--bench NAME]..."
                        .to_owned(),
                );
            }
        }
    }
    Ok(options)
}

/// The `[[bench]]` names of the suite's `Cargo.toml`.
fn bench_names() -> Vec<String> {
    let manifest = fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap_or_default();
    let mut names = Vec::new();
    let mut in_bench = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bench = line == "[[bench]]";
        } else if in_bench && line.starts_with("name") {
            if let Some(name) = line.split('"').nth(1) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// The benches a run covers: those named with `--bench`, else all.
fn bench_list(options: &Options) -> Vec<String> {
    if options.benches.is_empty() {
        bench_names()
    } else {
        options.benches.clone()
    }
}

fn run_benches(options: &Options) -> Result<(), String> {
    let names = bench_list(options);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.current_dir(ROOT).arg("bench");
    for name in &names {
        cmd.args(["--bench", name]);
    }
    cmd.arg("--");
    if options.quick {
        cmd.args([
            "--quick",
            "--warm-up-time",
            "0.5",
            "--measurement-time",
            "1",
        ]);
    }
    eprintln!("running: {cmd:?}");
    let status = cmd.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo bench exited with {status}"));
    }
    Ok(())
}

/// Peak RSS in KiB of `idle_tasks keen` and `idle_tasks tokio`.
#[derive(Debug, Clone, Copy)]
struct Memory {
    keen_kib: u64,
    tokio_kib: u64,
    tasks: usize,
}

const IDLE_TASKS: usize = 1_000_000;

fn measure_memory() -> Option<Memory> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(cargo)
        .current_dir(ROOT)
        .args(["build", "--release", "--example", "idle_tasks"])
        .status()
        .ok()?;
    if !built.success() {
        eprintln!("could not build examples/idle_tasks.rs");
        return None;
    }
    let exe = Path::new(ROOT).join("target/release/examples/idle_tasks");
    let keen_kib = peak_rss(&exe, "keen")?;
    let tokio_kib = peak_rss(&exe, "tokio")?;
    Some(Memory {
        keen_kib,
        tokio_kib,
        tasks: IDLE_TASKS,
    })
}

/// Runs `exe runtime N` and returns its peak RSS (KiB) from `wait4`.
fn peak_rss(exe: &Path, runtime: &str) -> Option<u64> {
    let child = Command::new(exe)
        .args([runtime, &IDLE_TASKS.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let pid = libc::pid_t::try_from(child.id()).ok()?;
    let mut status = 0;
    // SAFETY: `rusage` is plain data, valid when zeroed.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our unwaited child; `status` and `usage` are valid
    // for writes for the duration of the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        eprintln!("idle_tasks {runtime} failed");
        return None;
    }
    u64::try_from(usage.ru_maxrss).ok()
}

/// The text from `start` to `end` (both included) of the previous report.
fn previous_section(old: &str, start: &str, end: &str) -> Option<String> {
    let from = old.find(start)?;
    let to = from + old[from..].find(end)? + end.len();
    Some(format!("{}\n", &old[from..to]))
}

/// The memory figures of the previous report, for `--no-run`.
fn previous_memory() -> Option<Memory> {
    let old = fs::read_to_string(Path::new(ROOT).join("docs/benchmarks.md")).ok()?;
    let line = old.lines().find(|l| l.starts_with("<!-- memory:"))?;
    let mut nums = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>().ok());
    Some(Memory {
        keen_kib: nums.next()??,
        tokio_kib: nums.next()??,
        tasks: usize::try_from(nums.next()??).ok()?,
    })
}

/// Every `new/benchmark.json` + `new/estimates.json` under `dir`.
fn read_estimates(dir: &Path) -> std::io::Result<Vec<Estimate>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    if let Some(e) = read_one(&path) {
                        out.push(e);
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.group, &a.param, &a.function).cmp(&(&b.group, &b.param, &b.function)));
    Ok(out)
}

fn read_one(new_dir: &Path) -> Option<Estimate> {
    let bench = fs::read_to_string(new_dir.join("benchmark.json")).ok()?;
    let estimates = fs::read_to_string(new_dir.join("estimates.json")).ok()?;
    let group = json_string_field(&bench, "group_id")?;
    let function = json_string_field(&bench, "function_id")?;
    let param = json_string_field(&bench, "value_str");
    // `"mean":{"confidence_interval":{…},"point_estimate":X,…}`
    let mean = estimates.split_once("\"mean\"")?.1;
    let mean_ns = json_number_field(mean, "point_estimate")?;
    let std_dev = estimates
        .split_once("\"std_dev\"")
        .and_then(|(_, rest)| json_number_field(rest, "point_estimate"));
    Some(Estimate {
        group,
        function,
        param,
        mean_ns,
        spread: std_dev.map_or(0.0, |sd| sd / mean_ns),
    })
}

/// The string value of `"key":"…"` (criterion's ids never contain quotes).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let rest = json.split_once(&format!("\"{key}\":"))?.1.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest.split_once('"')?.0.to_owned())
}

/// The first number after `"key":`.
fn json_number_field(json: &str, key: &str) -> Option<f64> {
    let rest = json.split_once(&format!("\"{key}\":"))?.1.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn fmt_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let rustc = command_line("rustc", &["-V"]).unwrap_or_else(|| "rustc ?".to_owned());
    let kernel = command_line("uname", &["-sr"]).unwrap_or_default();
    format!(
        "{cpu}, {cores} cores available; {kernel}; {rustc}; tokio 1.54; \
         smol's async-executor 1.14 and async-io 2.6"
    )
}

fn render_markdown(
    estimates: &[Estimate],
    pairs: &[Pair],
    medians: &BTreeMap<String, usize>,
    memory: Option<&Memory>,
    options: &Options,
) -> String {
    // "(median of 3)" after a ratio whose cells are all medians.
    let runs = |pair: &Pair| {
        let n = pair.ids.iter().map(|id| medians.get(id).copied());
        match n
            .collect::<Option<Vec<usize>>>()
            .and_then(|n| n.into_iter().min())
        {
            Some(n) if n > 1 => format!(" (median of {n})"),
            _ => String::new(),
        }
    };
    let date = command_line("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks: keen beside tokio and smol\n");
    let _ = writeln!(
        md,
        "Generated by `cargo run --release --example bench-report{}` on {date}.\n\
         Machine: {}.\n\n\
         Every workload runs on keen, on tokio and (where a smol row is shown) on smol\n\
         (async-executor with async-io, as smol users run it) in the same criterion run;\n\
         times are criterion's mean per iteration. **ratio = peer / keen**, the peer\n\
         being tokio or smol (> 1: keen is faster);\n\
         for a floor row, keen / floor: ≤ 1.5 is the target for the eager-spawn floor,\n\
         ≤ 1.3 for the network ping-pong (the same round trip on blocking `std::net`\n\
         sockets between two threads); the 100k-timeouts floor (box, poll and drop the\n\
         same number of plain futures of the same size, no timer) is taken out of both\n\
         runtimes' times for that row's target (keen's time above it ≤ 0.5× tokio's).\n\n\
         One run moves a ratio near parity by ±15–25% on this machine, so every group with a\n\
         pair whose target figure came out within 1.25× of its bound (either side) had all\n\
         its cells run twice more, together and alone, after the main run; so had every group\n\
         with a target whose cells' samples spread widely within their run (standard deviation\n\
         above 20% of the mean: a bimodal cell, whatever its ratio). Their times are each\n\
         cell's median of the three means, marked \"(median of 3)\"; every other figure is one\n\
         run.\n\n\
         ![ratios tokio/keen and smol/keen per workload](benchmarks.svg)\n",
        if options.quick { " -- --quick" } else { "" },
        machine()
    );
    let mut groups: Vec<&str> = estimates.iter().map(|e| e.group.as_str()).collect();
    groups.dedup();
    let _ = writeln!(md, "## Targets\n");
    let _ = writeln!(
        md,
        "| workload | flavour | ratio | target | met |\n|---|---|---|---|---|"
    );
    for pair in pairs {
        if let Some((text, met)) = target(pair) {
            let _ = writeln!(
                md,
                "| {} | {} | {:.2}×{} | {text} | {} |",
                pair.group,
                pair.label,
                pair.ratio(),
                runs(pair),
                if met { "yes" } else { "**no**" }
            );
        }
    }
    if let Some(m) = memory {
        let met = m.keen_kib <= m.tokio_kib;
        let _ = writeln!(
            md,
            "| peak RSS, {} idle tasks | multi_thread(2) | {:.2}× | ≤ tokio's | {} |",
            m.tasks,
            m.tokio_kib as f64 / m.keen_kib as f64,
            if met { "yes" } else { "**no**" }
        );
    }
    let _ = writeln!(md, "\n## Results\n");
    for group in groups {
        let _ = writeln!(md, "### `{group}`\n");
        let _ = writeln!(
            md,
            "| flavour | keen | other | other runtime | ratio |\n|---|---|---|---|---|"
        );
        for pair in pairs.iter().filter(|p| p.group == group) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.2}×{} |",
                pair.label,
                fmt_time(pair.keen),
                fmt_time(pair.other),
                pair.other_name,
                pair.ratio(),
                runs(pair)
            );
        }
        let unpaired: Vec<&Estimate> = estimates
            .iter()
            .filter(|e| {
                let runtime = e.function.split('/').next().unwrap_or_default();
                e.group == group
                    && runtime != "keen"
                    && runtime != "floor"
                    && !PEERS.contains(&runtime)
            })
            .collect();
        for e in unpaired {
            let _ = writeln!(
                md,
                "| {} | | {} | (unpaired) | |",
                e.function,
                fmt_time(e.mean_ns)
            );
        }
        let _ = writeln!(md);
    }
    if let Some(m) = memory {
        let _ = writeln!(
            md,
            "### Memory: {} idle tasks, each waiting on an event\n\n\
             Peak RSS of `examples/idle_tasks.rs` (multi-thread(2); keen's tasks wait on\n\
             `keen::sync::Event`, tokio's on a registered `Notify`), measured by the report\n\
             through `wait4`:\n\n\
             | keen | tokio | tokio / keen |\n|---|---|---|\n| {:.1} MiB | {:.1} MiB | {:.2}× |\n\n\
             <!-- memory: keen {} tokio {} tasks {} -->\n",
            m.tasks,
            m.keen_kib as f64 / 1024.0,
            m.tokio_kib as f64 / 1024.0,
            m.tokio_kib as f64 / m.keen_kib as f64,
            m.keen_kib,
            m.tokio_kib,
            m.tasks
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_show_a_row_per_peer_and_targets_a_smol_row() {
        let estimate = |function: &str, mean_ns| Estimate {
            group: "rt_yield_many".to_owned(),
            function: function.to_owned(),
            param: None,
            mean_ns,
            spread: 0.0,
        };
        let estimates = [
            estimate("keen/current_thread", 100.0),
            estimate("smol/current_thread", 90.0),
            estimate("tokio/current_thread", 200.0),
        ];
        let pairs = pair_up(&estimates);
        let options = Options {
            quick: true,
            run: false,
            remeasure: false,
            benches: Vec::new(),
        };
        let md = render_markdown(&estimates, &pairs, &BTreeMap::new(), None, &options);
        for row in [
            "| rt_yield_many | current_thread | 2.00× | ≥ 1.0× tokio | yes |",
            "| rt_yield_many | current_thread | 0.90× | ≥ 1.0× smol | **no** |",
            "| current_thread | 100.0 ns | 200.0 ns | tokio | 2.00× |",
            "| current_thread | 100.0 ns | 90.0 ns | smol | 0.90× |",
        ] {
            assert!(md.contains(row), "missing {row:?} in\n{md}");
        }
        assert!(!md.contains("(unpaired)"));
    }

    #[test]
    fn a_cell_is_read_with_its_mean_and_the_spread_of_its_samples() {
        let dir = std::env::temp_dir().join(format!("bench-report-read-{}", std::process::id()));
        let new = dir.join("notify").join("keen_current_thread").join("new");
        fs::create_dir_all(&new).unwrap();
        fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"notify","function_id":"keen/current_thread","value_str":null}"#,
        )
        .unwrap();
        // Criterion's shape: the mean, then other estimates, then std_dev.
        fs::write(
            new.join("estimates.json"),
            r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":190.0,"upper_bound":210.0},"point_estimate":200.0,"standard_error":5.0},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.0,"standard_error":1.0},"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":40.0,"upper_bound":60.0},"point_estimate":50.0,"standard_error":3.0}}"#,
        )
        .unwrap();
        let read = read_estimates(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].id(), "notify/keen/current_thread");
        assert_eq!(read[0].mean_ns, 200.0);
        assert_eq!(read[0].spread, 0.25);
    }
}
