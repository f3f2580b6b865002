//! Near-target cells measured three times. A pair whose target figure sits
//! within [`NEAR`](crate::pairs::NEAR) of its bound (either side) cannot be
//! called met or missed from one criterion run on this noisy 2-core VM: a
//! parity row moves by ±15–25% from run to run. After the main run, the
//! cells behind such pairs (keen's, the peer's and the floor's) are run
//! [`EXTRA_RUNS`] more times, alone, and the report shows each one's
//! median of the three means. Every other cell keeps its single run.
//!
//! The medians are kept in [`MEDIANS`] beside criterion's results, each with
//! the mean criterion holds for the cell (that of the last of the three
//! runs), so `--no-run` rebuilds the same report, and a median whose cell
//! was measured again since (a later `--bench` run) no longer applies.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::pairs::{Estimate, Pair, rule};

/// Runs of a near-target cell besides the main one.
pub const EXTRA_RUNS: usize = 2;

/// Where the medians are kept, under the suite's root.
const MEDIANS: &str = "target/criterion/report-medians.tsv";

/// The criterion ids of the cells behind every pair near its target.
pub fn near_ids(pairs: &[Pair]) -> Vec<String> {
    let mut ids: Vec<String> = pairs
        .iter()
        .filter(|p| rule(p).is_some_and(|r| r.near()))
        .flat_map(|p| p.ids.iter().cloned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A criterion filter matching exactly `ids`.
pub fn filter(ids: &[String]) -> String {
    let escaped: Vec<String> = ids.iter().map(|id| escape(id)).collect();
    format!("^({})$", escaped.join("|"))
}

/// `s` with every regex metacharacter escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Runs the cells `ids` of each bench in `benches` that has any of them,
/// [`EXTRA_RUNS`] times, reading criterion's estimates after each run;
/// returns every run's mean per id, the main run's first.
pub fn run_extra(
    root: &Path,
    benches: &[String],
    ids: &[String],
    first: &[Estimate],
    quick: &[&str],
    read: impl Fn() -> Vec<Estimate>,
) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let mut runs: BTreeMap<String, Vec<f64>> = first
        .iter()
        .filter(|e| ids.contains(&e.id()))
        .map(|e| (e.id(), vec![e.mean_ns]))
        .collect();
    if runs.is_empty() {
        return Ok(runs);
    }
    let filter = filter(ids);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut with_cells = Vec::new();
    for bench in benches {
        let out = Command::new(&cargo)
            .current_dir(root)
            .args(["bench", "--bench", bench, "--", "--list", &filter])
            .output()
            .map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.ends_with(": benchmark"))
        {
            with_cells.push(bench.as_str());
        }
    }
    for round in 1..=EXTRA_RUNS {
        for bench in &with_cells {
            eprintln!(
                "re-measuring near-target cells of {bench} (run {} of {})",
                round + 1,
                EXTRA_RUNS + 1
            );
            let status = Command::new(&cargo)
                .current_dir(root)
                .args(["bench", "--bench", bench, "--"])
                .args(quick)
                .arg(&filter)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("cargo bench --bench {bench} exited with {status}"));
            }
        }
        for e in read() {
            if let Some(means) = runs.get_mut(&e.id()) {
                means.push(e.mean_ns);
            }
        }
    }
    Ok(runs)
}

/// The median of `means` (the mean of the middle two for an even count).
pub fn median(means: &[f64]) -> f64 {
    let mut sorted = means.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// Writes the medians of `runs` to [`MEDIANS`], each with the mean criterion
/// now holds for its cell (the last run), keeping earlier medians whose cells
/// were not measured again.
pub fn save(root: &Path, runs: &BTreeMap<String, Vec<f64>>) -> std::io::Result<()> {
    let path = root.join(MEDIANS);
    let mut kept = load(root);
    for (id, means) in runs {
        if let Some(&last) = means.last() {
            kept.insert(id.clone(), (median(means), last, means.len()));
        }
    }
    let mut text = String::from("# id\tmedian_ns\tlast_run_ns\truns\n");
    for (id, (median, last, n)) in &kept {
        text.push_str(&format!("{id}\t{median:?}\t{last:?}\t{n}\n"));
    }
    fs::write(path, text)
}

/// The kept medians: id → (median, the cell's mean when it was taken, runs).
fn load(root: &Path) -> BTreeMap<String, (f64, f64, usize)> {
    let text = fs::read_to_string(root.join(MEDIANS)).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            let id = f.next()?.to_owned();
            let median = f.next()?.parse().ok()?;
            let last = f.next()?.parse().ok()?;
            let n = f.next()?.parse().ok()?;
            Some((id, (median, last, n)))
        })
        .collect()
}

/// Replaces each estimate's mean by its kept median where one applies (its
/// cell still holds the mean the median was taken with); returns the ids
/// replaced and how many runs each median is of.
pub fn apply(root: &Path, estimates: &mut [Estimate]) -> BTreeMap<String, usize> {
    apply_medians(&load(root), estimates)
}

fn apply_medians(
    kept: &BTreeMap<String, (f64, f64, usize)>,
    estimates: &mut [Estimate],
) -> BTreeMap<String, usize> {
    let mut applied = BTreeMap::new();
    for e in estimates.iter_mut() {
        let id = e.id();
        if let Some(&(median, last, n)) = kept.get(&id) {
            if last == e.mean_ns {
                e.mean_ns = median;
                applied.insert(id, n);
            }
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(function: &str, mean_ns: f64) -> Estimate {
        Estimate {
            group: "rt_ping_pong".to_owned(),
            function: function.to_owned(),
            param: None,
            mean_ns,
        }
    }

    #[test]
    fn the_filter_matches_exactly_the_ids() {
        let f = filter(&["a/keen/multi_thread(2)".to_owned(), "b.c/x".to_owned()]);
        assert_eq!(f, r"^(a/keen/multi_thread\(2\)|b\.c/x)$");
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[9.0, 1.0, 2.0, 4.0]), 3.0);
        assert_eq!(median(&[5.0]), 5.0);
    }

    #[test]
    fn only_pairs_near_their_target_are_re_measured() {
        let pairs = crate::pairs::pair_up(&[
            estimate("keen/multi_thread(2)", 1.1),
            estimate("tokio/multi_thread(2)", 1.0),
            estimate("keen/current_thread", 1.0),
            estimate("tokio/current_thread", 2.0),
        ]);
        // 0.91× against ≥ 1.0×: near. 2.0×: far.
        assert_eq!(
            near_ids(&pairs),
            [
                "rt_ping_pong/keen/multi_thread(2)",
                "rt_ping_pong/tokio/multi_thread(2)"
            ]
        );
    }

    #[test]
    fn a_median_applies_only_while_its_cell_holds_the_run_it_was_taken_with() {
        let mut kept = BTreeMap::new();
        kept.insert(
            "rt_ping_pong/keen/multi_thread(2)".to_owned(),
            (2.0, 3.0, 3),
        );
        kept.insert(
            "rt_ping_pong/tokio/multi_thread(2)".to_owned(),
            (2.0, 3.0, 3),
        );
        let mut estimates = [
            estimate("keen/multi_thread(2)", 3.0),
            // Measured again since the median was taken: the new run stands.
            estimate("tokio/multi_thread(2)", 4.0),
        ];
        let applied = apply_medians(&kept, &mut estimates);
        assert_eq!(estimates[0].mean_ns, 2.0);
        assert_eq!(estimates[1].mean_ns, 4.0);
        assert_eq!(applied.len(), 1);
    }
}
