//! The bench report: `cargo run --release --example bench-report [-- --quick]`.
//!
//! Runs every criterion bench of the suite (each workload on keen and on
//! tokio in the same run), measures the peak RSS of 1M idle tasks on each
//! runtime (`examples/idle_tasks.rs`, from outside, through `wait4`), reads
//! criterion's estimates from `target/criterion`, and writes
//! `docs/benchmarks.md` (a table per group: keen, tokio, and the ratio
//! tokio/keen, above 1 when keen is faster; the targets of issue 7, met or
//! missed; the machine and the date) and `docs/benchmarks.svg` (the ratios
//! as bars).
//!
//! It also runs `wrk` against `examples/http_server.rs` on keen, tokio and
//! tokio-per-core (`wrk.rs`) for the "HTTP under wrk" section.
//!
//! Options: `--quick` (criterion's quick mode with short warm-ups: the
//! whole run under 5 minutes on 2 cores), `--no-run` (rebuild the report
//! from the last results without running anything), `--bench NAME` (only
//! that bench; repeatable). Text below the generated part of
//! `docs/benchmarks.md` (the findings, written by hand) is kept.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};

mod wrk;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Everything after this line of `docs/benchmarks.md` is hand-written.
const KEEP_MARKER: &str = "<!-- end of generated report: hand-written findings below are kept -->";

struct Options {
    quick: bool,
    run: bool,
    benches: Vec<String>,
}

/// One criterion result: mean time per iteration, in nanoseconds.
#[derive(Debug, Clone)]
struct Estimate {
    group: String,
    function: String,
    param: Option<String>,
    mean_ns: f64,
}

/// keen beside tokio (or beside the floor) for one group, flavour, param.
struct Pair {
    group: String,
    label: String,
    keen: f64,
    other: f64,
    /// "tokio" or "floor".
    other_name: &'static str,
}

impl Pair {
    /// tokio / keen (> 1: keen faster); for the floor, keen / floor.
    fn ratio(&self) -> f64 {
        if self.other_name == "floor" {
            self.keen / self.other
        } else {
            self.other / self.keen
        }
    }
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
    let estimates = match read_estimates(&Path::new(ROOT).join("target/criterion")) {
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
    let pairs = pair_up(&estimates);
    let svg = render_svg(&pairs, memory.as_ref());
    let md = render_markdown(&estimates, &pairs, memory.as_ref(), &options);
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
        benches: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--no-run" => options.run = false,
            "--bench" => options
                .benches
                .push(args.next().ok_or("--bench needs a NAME")?),
            _ => {
                return Err("usage: bench-report [--quick] [--no-run] [--bench NAME]...".to_owned());
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

fn run_benches(options: &Options) -> Result<(), String> {
    let names = if options.benches.is_empty() {
        bench_names()
    } else {
        options.benches.clone()
    };
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
    Some(Estimate {
        group,
        function,
        param,
        mean_ns,
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

/// `keen/<flavour>` beside `tokio/<flavour>` (same param), and beside the
/// group's floor with the same flavour and param if there is one, else the
/// group's only `floor…` entry (the spawn floor runs no runtime at all).
fn pair_up(estimates: &[Estimate]) -> Vec<Pair> {
    type Key = (String, Option<String>, String);
    let mut by_key: BTreeMap<(String, Option<String>, String, String), f64> = BTreeMap::new();
    let mut floors: BTreeMap<Key, f64> = BTreeMap::new();
    for e in estimates {
        let (runtime, flavour) = e.function.split_once('/').unwrap_or((&e.function, ""));
        if runtime == "floor" {
            floors.insert(
                (e.group.clone(), e.param.clone(), flavour.to_owned()),
                e.mean_ns,
            );
        }
        by_key.insert(
            (
                e.group.clone(),
                e.param.clone(),
                flavour.to_owned(),
                runtime.to_owned(),
            ),
            e.mean_ns,
        );
    }
    let mut pairs = Vec::new();
    for ((group, param, flavour, runtime), &keen) in &by_key {
        if runtime != "keen" {
            continue;
        }
        let label = [flavour.as_str(), param.as_deref().unwrap_or("")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let key = (
            group.clone(),
            param.clone(),
            flavour.clone(),
            "tokio".to_owned(),
        );
        if let Some(&tokio) = by_key.get(&key) {
            pairs.push(Pair {
                group: group.clone(),
                label: label.clone(),
                keen,
                other: tokio,
                other_name: "tokio",
            });
        }
        let exact = floors.get(&(group.clone(), param.clone(), flavour.clone()));
        let mut of_group = floors.iter().filter(|((g, _, _), _)| g == group);
        let only = match (of_group.next(), of_group.next()) {
            (Some((_, floor)), None) => Some(floor),
            _ => None,
        };
        if let Some(&floor) = exact.or(only) {
            pairs.push(Pair {
                group: group.clone(),
                label,
                keen,
                other: floor,
                other_name: "floor",
            });
        }
    }
    pairs
}

/// The target of a pair (issues 7, 15 and 17): (description, met?).
fn target(pair: &Pair) -> Option<(&'static str, bool)> {
    let g = pair.group.as_str();
    let r = pair.ratio();
    if pair.other_name == "floor" {
        // Only the eager-spawn and the blocking ping-pong floors are
        // targets; other floors are context (what the workload costs before
        // the runtime does anything).
        if g == "io_ping_pong" {
            return Some(("≤ 1.3× the blocking floor", r <= 1.3));
        }
        return g
            .contains("spawn_ready")
            .then_some(("≤ 2× the floor", r <= 2.0));
    }
    let (text, min) = if g == "io_echo_64" || g == "io_connect" {
        ("≥ 1.2× tokio", 1.2)
    } else if g.ends_with("@thread") {
        // Issue 17: from a plain thread through a Handle.
        ("≥ 1.5× tokio", 1.5)
    } else if g.starts_with("spawn_yield@") {
        ("≥ 1.5× tokio", 1.5)
    } else if g.starts_with("timeout_cancel@") {
        ("≥ 2× tokio", 2.0)
    } else if g.starts_with("gather/") {
        ("≥ 3× tokio", 3.0)
    } else if g.contains("spawn_ready") {
        ("≥ 5× tokio", 5.0)
    } else if g.contains("spawn_many") {
        ("≥ 1.5× tokio", 1.5)
    } else if g.contains("yield_many") || g.contains("ping_pong") || g.contains("chained_spawn") {
        ("≥ 1.0× tokio", 1.0)
    } else if g.contains("timeout_pending_once") || g.contains("timeouts_100k") {
        ("≥ 2× tokio", 2.0)
    } else if g.contains("seed") {
        ("≥ 3× tokio", 3.0)
    } else if g.contains("sync")
        || g.contains("mutex")
        || g.contains("semaphore")
        || g.contains("mpsc")
        || g.contains("oneshot")
        || g.contains("request_reply")
    {
        ("≥ 1.0× tokio", 1.0)
    } else {
        return None;
    };
    Some((text, r >= min))
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
    format!("{cpu}, {cores} cores available; {kernel}; {rustc}; tokio 1.54")
}

fn render_markdown(
    estimates: &[Estimate],
    pairs: &[Pair],
    memory: Option<&Memory>,
    options: &Options,
) -> String {
    let date = command_line("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks: keen beside tokio\n");
    let _ = writeln!(
        md,
        "Generated by `cargo run --release --example bench-report{}` on {date}.\n\
         Machine: {}.\n\n\
         Every workload runs on keen and on tokio in the same criterion run; times are\n\
         criterion's mean per iteration. **ratio = tokio / keen** (> 1: keen is faster);\n\
         for a floor row, keen / floor: ≤ 2 is the target for the eager-spawn floor,\n\
         ≤ 1.3 for the network ping-pong (the same round trip on blocking `std::net`\n\
         sockets between two threads); the 100k-timeouts floor (box, poll and drop the\n\
         same number of plain futures of the same size, no timer) is context.\n\n\
         ![ratio tokio/keen per workload](benchmarks.svg)\n",
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
                "| {} | {} | {:.2}× | {text} | {} |",
                pair.group,
                pair.label,
                pair.ratio(),
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
                "| {} | {} | {} | {} | {:.2}× |",
                pair.label,
                fmt_time(pair.keen),
                fmt_time(pair.other),
                pair.other_name,
                pair.ratio()
            );
        }
        let unpaired: Vec<&Estimate> = estimates
            .iter()
            .filter(|e| {
                let runtime = e.function.split('/').next().unwrap_or_default();
                e.group == group && !matches!(runtime, "keen" | "tokio" | "floor")
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

fn render_svg(pairs: &[Pair], memory: Option<&Memory>) -> String {
    let mut bars: Vec<(String, f64)> = pairs
        .iter()
        .filter(|p| p.other_name == "tokio")
        .map(|p| (format!("{} — {}", p.group, p.label), p.ratio()))
        .collect();
    if let Some(m) = memory {
        bars.push((
            format!("peak RSS, {} idle tasks", m.tasks),
            m.tokio_kib as f64 / m.keen_kib as f64,
        ));
    }
    let row = 22.0;
    let label_w = 470.0;
    let chart_w = 420.0;
    let max = bars.iter().map(|b| b.1).fold(2.0_f64, f64::max).min(12.0);
    let scale = chart_w / max;
    let height = 40.0 + row * bars.len() as f64 + 30.0;
    let width = label_w + chart_w + 80.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" font-size=\"14\">ratio tokio / keen (&gt; 1: keen faster or smaller)</text>"
    );
    for (i, (label, ratio)) in bars.iter().enumerate() {
        let y = 34.0 + row * i as f64;
        let w = (ratio.min(max) * scale).max(1.0);
        let color = if *ratio >= 1.0 { "#3a7d44" } else { "#c0504d" };
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{}\">{ratio:.2}×</text>",
            label_w - 8.0,
            y + 14.0,
            xml_escape(label),
            y + 3.0,
            row - 6.0,
            label_w + w + 4.0,
            y + 14.0
        );
    }
    let one = label_w + scale;
    let bottom = 34.0 + row * bars.len() as f64;
    let _ = writeln!(
        svg,
        "<line x1=\"{one:.1}\" y1=\"30\" x2=\"{one:.1}\" y2=\"{bottom}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{one:.1}\" y=\"{}\" text-anchor=\"middle\">1×</text>",
        bottom + 16.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
