//! Uncertain groups measured three times. A pair whose target figure
//! sits within [`NEAR`](crate::pairs::NEAR) of its bound (either side)
//! cannot be called met or missed from one criterion run on this noisy
//! 2-core VM: a parity row moves by ±15–25% from run to run. Nor can one
//! whose cells' samples spread beyond [`UNSTABLE`](crate::pairs::UNSTABLE)
//! within their run, however far from the bound: such a cell is bimodal
//! (`spawn_ready@thread` came out 3.19× tokio in one report and 1.15× in
//! the next sitting). After the main
//! run, every cell of each group with such a pair (keen's, the peers' and
//! the floors', so a ratio's two sides always come from the same runs) is
//! run [`EXTRA_RUNS`] more times, alone, and the report shows each cell's
//! median of the three means. [`settle`] repeats this for groups that come
//! near only once the medians are in; a group is settled when all its cells
//! hold medians of one and the same round. Every other cell keeps its
//! single run.
//!
//! The medians are kept in [`MEDIANS`] beside criterion's results, each with
//! the mean criterion holds for the cell (that of the last of the three
//! runs) and its round, so `--no-run` rebuilds the same report, and a
//! median whose cell was measured again since (a later `--bench` run) no
//! longer applies.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::pairs::{Estimate, Pair, pair_up, rule};

/// Runs of an uncertain cell (near its target, or bimodal) besides the main one.
pub const EXTRA_RUNS: usize = 2;

/// Where the medians are kept, under the suite's root.
const MEDIANS: &str = "target/criterion/report-medians.tsv";

/// A kept median: the median, the cell's mean when it was taken (the last
/// run), how many runs, and the round that took it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Kept {
    median: f64,
    last: f64,
    runs: usize,
    round: u64,
}

/// The groups with a target pair that is near its bound or unstable.
fn uncertain_groups(pairs: &[Pair]) -> Vec<String> {
    let mut groups: Vec<String> = pairs
        .iter()
        .filter(|p| rule(p).is_some_and(|r| r.near() || p.unstable()))
        .map(|p| p.group.clone())
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

/// A criterion filter matching exactly `ids`.
fn filter(ids: &[String]) -> String {
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

/// Re-measures near groups until settled (see the module docs). A settled
/// group's cells are never run again, and each round settles every group it
/// runs, so this ends.
pub fn settle(
    root: &Path,
    benches: &[String],
    read: impl Fn() -> Vec<Estimate>,
) -> Result<(), String> {
    loop {
        let ids = pending(&load(root), read());
        if ids.is_empty() {
            return Ok(());
        }
        let runs = run_extra(root, benches, &ids, &read)?;
        if runs.is_empty() {
            return Ok(());
        }
        let round = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        save(root, &runs, round).map_err(|e| e.to_string())?;
    }
}

/// Every cell of each near group (with the medians `kept` applied) that is
/// not settled yet: all of a group's cells holding medians of one round.
fn pending(kept: &BTreeMap<String, Kept>, mut estimates: Vec<Estimate>) -> Vec<String> {
    let applied = apply_medians(kept, &mut estimates);
    let mut ids = Vec::new();
    for group in uncertain_groups(&pair_up(&estimates)) {
        let cells: Vec<String> = estimates
            .iter()
            .filter(|e| e.group == group)
            .map(Estimate::id)
            .collect();
        let mut rounds = cells.iter().map(|id| applied.get(id).map(|k| k.round));
        let first = rounds.next().flatten();
        let settled = first.is_some() && rounds.all(|r| r == first);
        if !settled {
            ids.extend(cells);
        }
    }
    ids
}

/// Runs the cells `ids` of each bench in `benches` that has any of them,
/// [`EXTRA_RUNS`] times, reading criterion's estimates (`read`) before and
/// after each run; returns every run's mean per id, the one before first.
fn run_extra(
    root: &Path,
    benches: &[String],
    ids: &[String],
    read: impl Fn() -> Vec<Estimate>,
) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let mut runs: BTreeMap<String, Vec<f64>> = read()
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
                "re-measuring uncertain groups (near their target, or bimodal) of {bench} (run {} of {})",
                round + 1,
                EXTRA_RUNS + 1
            );
            let status = Command::new(&cargo)
                .current_dir(root)
                .args(["bench", "--bench", bench, "--"])
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

/// Writes the medians of `runs`, taken in `round`, to [`MEDIANS`], each
/// with the mean criterion now holds for its cell (the last run), keeping
/// earlier medians of other cells.
fn save(root: &Path, runs: &BTreeMap<String, Vec<f64>>, round: u64) -> std::io::Result<()> {
    let mut kept = load(root);
    for (id, means) in runs {
        if let Some(&last) = means.last() {
            let k = Kept {
                median: median(means),
                last,
                runs: means.len(),
                round,
            };
            kept.insert(id.clone(), k);
        }
    }
    let mut text = String::from("# id\tmedian_ns\tlast_run_ns\truns\tround\n");
    for (id, k) in &kept {
        text.push_str(&format!(
            "{id}\t{:?}\t{:?}\t{}\t{}\n",
            k.median, k.last, k.runs, k.round
        ));
    }
    fs::write(root.join(MEDIANS), text)
}

/// The kept medians by cell id.
fn load(root: &Path) -> BTreeMap<String, Kept> {
    let text = fs::read_to_string(root.join(MEDIANS)).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            let id = f.next()?.to_owned();
            let k = Kept {
                median: f.next()?.parse().ok()?,
                last: f.next()?.parse().ok()?,
                runs: f.next()?.parse().ok()?,
                round: f.next()?.parse().ok()?,
            };
            Some((id, k))
        })
        .collect()
}

/// Replaces each estimate's mean by its kept median where one applies (its
/// cell still holds the mean the median was taken with); returns, per id
/// replaced, how many runs its median is of.
pub fn apply(root: &Path, estimates: &mut [Estimate]) -> BTreeMap<String, usize> {
    apply_medians(&load(root), estimates)
        .into_iter()
        .map(|(id, k)| (id, k.runs))
        .collect()
}

fn apply_medians(
    kept: &BTreeMap<String, Kept>,
    estimates: &mut [Estimate],
) -> BTreeMap<String, Kept> {
    let mut applied = BTreeMap::new();
    for e in estimates.iter_mut() {
        let id = e.id();
        if let Some(&k) = kept.get(&id) {
            if k.last == e.mean_ns {
                e.mean_ns = k.median;
                applied.insert(id, k);
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
            spread: 0.0,
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

    fn kept(median: f64, last: f64, round: u64) -> Kept {
        Kept {
            median,
            last,
            runs: 3,
            round,
        }
    }

    #[test]
    fn a_group_with_a_pair_near_its_target_is_re_measured_whole() {
        let mut estimates = vec![
            // 1.4× tokio (far) but 1.1× smol (near): all three cells.
            estimate("keen/multi_thread(2)", 1.0),
            estimate("tokio/multi_thread(2)", 1.4),
            estimate("smol/multi_thread(2)", 1.1),
        ];
        let mut far = estimate("keen/multi_thread(2)", 1.0);
        far.group = "rt_yield_many".to_owned();
        let mut far_tokio = far.clone();
        far_tokio.function = "tokio/multi_thread(2)".to_owned();
        far_tokio.mean_ns = 3.0;
        estimates.extend([far, far_tokio]);
        assert_eq!(
            pending(&BTreeMap::new(), estimates),
            [
                "rt_ping_pong/keen/multi_thread(2)",
                "rt_ping_pong/tokio/multi_thread(2)",
                "rt_ping_pong/smol/multi_thread(2)"
            ]
        );
    }

    #[test]
    fn a_group_whose_cells_spread_widely_is_re_measured_however_far_its_target() {
        let keen = estimate("keen/multi_thread(2)", 1.0);
        let mut tokio = estimate("tokio/multi_thread(2)", 3.0);
        assert!(pending(&BTreeMap::new(), vec![keen.clone(), tokio.clone()]).is_empty());
        tokio.spread = 0.3;
        assert_eq!(pending(&BTreeMap::new(), vec![keen, tokio]).len(), 2);
    }

    #[test]
    fn a_group_is_settled_once_all_its_cells_hold_medians_of_one_round() {
        let estimates = vec![
            estimate("keen/multi_thread(2)", 1.0),
            estimate("tokio/multi_thread(2)", 1.1),
        ];
        let mut k = BTreeMap::new();
        k.insert(
            "rt_ping_pong/keen/multi_thread(2)".to_owned(),
            kept(1.2, 1.0, 7),
        );
        // keen's median alone (an earlier round for another pair): not settled.
        assert_eq!(pending(&k, estimates.clone()).len(), 2);
        k.insert(
            "rt_ping_pong/tokio/multi_thread(2)".to_owned(),
            kept(1.1, 1.1, 6),
        );
        assert_eq!(pending(&k, estimates.clone()).len(), 2, "two rounds");
        k.insert(
            "rt_ping_pong/tokio/multi_thread(2)".to_owned(),
            kept(1.1, 1.1, 7),
        );
        assert!(pending(&k, estimates).is_empty(), "settled");
    }

    #[test]
    fn a_median_applies_only_while_its_cell_holds_the_run_it_was_taken_with() {
        let mut k = BTreeMap::new();
        k.insert(
            "rt_ping_pong/keen/multi_thread(2)".to_owned(),
            kept(2.0, 3.0, 1),
        );
        k.insert(
            "rt_ping_pong/tokio/multi_thread(2)".to_owned(),
            kept(2.0, 3.0, 1),
        );
        let mut estimates = [
            estimate("keen/multi_thread(2)", 3.0),
            // Measured again since the median was taken: the new run stands.
            estimate("tokio/multi_thread(2)", 4.0),
        ];
        let applied = apply_medians(&k, &mut estimates);
        assert_eq!(estimates[0].mean_ns, 2.0);
        assert_eq!(estimates[1].mean_ns, 4.0);
        assert_eq!(applied.len(), 1);
    }
}
