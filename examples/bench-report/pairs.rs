//! keen beside its peers and its floors: pairs criterion's estimates
//! (`keen/<flavour>` with `tokio/<flavour>`, `smol/<flavour>` and the
//! group's floor) and says which target each pair is held to.

use std::collections::BTreeMap;

/// The peers keen is paired with, in the order their rows appear.
pub const PEERS: [&str; 2] = ["tokio", "smol"];

/// One criterion result: mean time per iteration, in nanoseconds.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub group: String,
    pub function: String,
    pub param: Option<String>,
    pub mean_ns: f64,
    /// Criterion's standard deviation of the per-iteration time within the
    /// run, over its mean (0 when criterion gave none): how widely the
    /// run's samples spread.
    pub spread: f64,
}

impl Estimate {
    /// Criterion's id of the cell: `group/function[/param]`, what its
    /// filter matches.
    pub fn id(&self) -> String {
        match &self.param {
            Some(param) => format!("{}/{}/{param}", self.group, self.function),
            None => format!("{}/{}", self.group, self.function),
        }
    }
}

/// keen beside a peer runtime (or beside the floor) for one group,
/// flavour, param.
#[derive(Debug, Clone)]
pub struct Pair {
    pub group: String,
    pub label: String,
    pub keen: f64,
    pub other: f64,
    /// A name of [`PEERS`], or "floor".
    pub other_name: &'static str,
    /// The group's floor for this flavour and param, if it has one (a
    /// target can be about the time above it).
    pub floor: Option<f64>,
    /// Criterion ids of the cells the pair's figures come from: keen's, the
    /// other's and, if different, the floor's.
    pub ids: Vec<String>,
    /// The widest [`Estimate::spread`] of those cells.
    pub spread: f64,
}

impl Pair {
    /// peer / keen (> 1: keen faster); for the floor, keen / floor.
    pub fn ratio(&self) -> f64 {
        if self.other_name == "floor" {
            self.keen / self.other
        } else {
            self.other / self.keen
        }
    }

    /// Whether one of its cells spread beyond [`UNSTABLE`] within its run.
    pub fn unstable(&self) -> bool {
        self.spread > UNSTABLE
    }
}

/// `keen/<flavour>` beside `tokio/<flavour>` and `smol/<flavour>` (same
/// param), each when present, and beside the group's floor with the same
/// flavour and param if there is one, else the group's only `floor…` entry
/// (the spawn floor runs no runtime at all).
pub fn pair_up(estimates: &[Estimate]) -> Vec<Pair> {
    type Key = (String, Option<String>, String);
    let mut by_key: BTreeMap<(String, Option<String>, String, String), &Estimate> = BTreeMap::new();
    let mut floors: BTreeMap<Key, &Estimate> = BTreeMap::new();
    for e in estimates {
        let (runtime, flavour) = e.function.split_once('/').unwrap_or((&e.function, ""));
        if runtime == "floor" {
            floors.insert((e.group.clone(), e.param.clone(), flavour.to_owned()), e);
        }
        by_key.insert(
            (
                e.group.clone(),
                e.param.clone(),
                flavour.to_owned(),
                runtime.to_owned(),
            ),
            e,
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
        let exact = floors.get(&(group.clone(), param.clone(), flavour.clone()));
        let mut of_group = floors.iter().filter(|((g, _, _), _)| g == group);
        let only = match (of_group.next(), of_group.next()) {
            (Some((_, floor)), None) => Some(floor),
            _ => None,
        };
        let floor = exact.or(only).copied();
        let floor_id = floor.map(Estimate::id);
        for peer in PEERS {
            let key = (
                group.clone(),
                param.clone(),
                flavour.clone(),
                peer.to_owned(),
            );
            if let Some(&other) = by_key.get(&key) {
                pairs.push(Pair {
                    group: group.clone(),
                    label: label.clone(),
                    keen: keen.mean_ns,
                    other: other.mean_ns,
                    other_name: peer,
                    floor: floor.map(|f| f.mean_ns),
                    ids: [Some(keen.id()), Some(other.id()), floor_id.clone()]
                        .into_iter()
                        .flatten()
                        .collect(),
                    spread: [Some(keen), Some(other), floor]
                        .into_iter()
                        .flatten()
                        .map(|e| e.spread)
                        .fold(0.0, f64::max),
                });
            }
        }
        if let Some(floor) = floor {
            pairs.push(Pair {
                group: group.clone(),
                label,
                keen: keen.mean_ns,
                other: floor.mean_ns,
                other_name: "floor",
                floor: Some(floor.mean_ns),
                ids: vec![keen.id(), floor.id()],
                spread: keen.spread.max(floor.spread),
            });
        }
    }
    pairs
}

/// A target as one figure held to a bound: the ratio (or, for the timer
/// batch, the time above the floor over tokio's) at least or at most `bound`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub text: String,
    pub figure: f64,
    pub bound: f64,
    pub at_least: bool,
}

/// How far (as a factor, either way) a figure may sit from its bound and
/// still be re-measured before it is reported (`remeasure.rs`): one run on
/// this machine moves a parity row by ±15–25%.
pub const NEAR: f64 = 1.25;

/// A cell whose samples spread wider than this (standard deviation over
/// mean, within its run) is bimodal on this machine (a plain-thread wake
/// that lands on a halted or a running vCPU): its one mean says little,
/// so its group is re-measured however far its figure is from the bound.
pub const UNSTABLE: f64 = 0.2;

impl Rule {
    pub fn met(&self) -> bool {
        if self.at_least {
            self.figure >= self.bound
        } else {
            self.figure <= self.bound
        }
    }

    /// Whether the figure is within [`NEAR`] of its bound, on either side.
    pub fn near(&self) -> bool {
        let q = self.figure / self.bound;
        (1.0 / NEAR..=NEAR).contains(&q)
    }
}

/// The target of a pair (issues 7, 15, 17 and 18 against tokio; keen
/// ahead of smol everywhere): (description, met?).
pub fn target(pair: &Pair) -> Option<(String, bool)> {
    rule(pair).map(|r| {
        let met = r.met();
        (r.text, met)
    })
}

/// The target of a pair as a [`Rule`].
pub fn rule(pair: &Pair) -> Option<Rule> {
    let g = pair.group.as_str();
    if g.contains("timeouts_100k") && pair.other_name == "tokio" {
        if let Some(floor) = pair.floor {
            // Issue 17: the timer work itself, the floor taken out of both.
            let above = (pair.keen - floor) / (pair.other - floor);
            return Some(Rule {
                text: format!("time above the floor ≤ 0.5× tokio's (is {above:.2}×)"),
                figure: above,
                bound: 0.5,
                at_least: false,
            });
        }
    }
    target_ratio(pair).map(|(text, bound, at_least)| Rule {
        text: text.to_owned(),
        figure: pair.ratio(),
        bound,
        at_least,
    })
}

/// The targets on the ratio itself: (description, bound, at least?).
fn target_ratio(pair: &Pair) -> Option<(&'static str, f64, bool)> {
    let g = pair.group.as_str();
    if pair.other_name == "smol" {
        // The second peer: keen ahead of it on every row it has.
        return Some(("≥ 1.0× smol", 1.0, true));
    }
    if pair.other_name == "floor" {
        // Only the eager-spawn and the blocking ping-pong floors are
        // targets; other floors are context (what the workload costs before
        // the runtime does anything).
        if g == "io_ping_pong" {
            return Some(("≤ 1.3× the blocking floor", 1.3, false));
        }
        // Issue 17: a ready spawn + await within 1.5× of box, poll, drop.
        return g
            .contains("spawn_ready")
            .then_some(("≤ 1.5× the floor", 1.5, false));
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
    } else if g == "notify_with_handoff" {
        // Context, not a target: the `notify` batch plus a plain-thread
        // hand-off per iteration (docs/sync.md, "The issue-18 rows").
        return None;
    } else if g.contains("sync")
        || g == "notify"
        || g.contains("rwlock")
        || g.contains("broadcast")
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
    Some((text, min, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(group: &str, function: &str, mean_ns: f64) -> Estimate {
        Estimate {
            group: group.to_owned(),
            function: function.to_owned(),
            param: None,
            mean_ns,
            spread: 0.0,
        }
    }

    #[test]
    fn keen_pairs_with_tokio_then_smol_then_the_floor() {
        let estimates = [
            estimate("spawn_ready", "floor/box_pin_poll_drop", 10.0),
            estimate("spawn_ready", "keen/current_thread", 20.0),
            estimate("spawn_ready", "smol/current_thread", 190.0),
            estimate("spawn_ready", "tokio/current_thread", 220.0),
            estimate("spawn_ready", "keen/multi_thread(2)", 25.0),
            estimate("spawn_ready", "smol/multi_thread(2)", 20.0),
        ];
        let pairs = pair_up(&estimates);
        let rows: Vec<_> = pairs
            .iter()
            .map(|p| (p.label.as_str(), p.other_name, p.other))
            .collect();
        assert_eq!(
            rows,
            [
                ("current_thread", "tokio", 220.0),
                ("current_thread", "smol", 190.0),
                ("current_thread", "floor", 10.0),
                ("multi_thread(2)", "smol", 20.0),
                ("multi_thread(2)", "floor", 10.0),
            ]
        );
        // peer / keen for both peers; keen / floor for the floor.
        assert_eq!(pairs[1].ratio(), 9.5);
        assert_eq!(pairs[2].ratio(), 2.0);
        assert_eq!(pairs[3].ratio(), 0.8);
    }

    #[test]
    fn smol_pairs_need_a_smol_cell_of_the_same_flavour_and_param() {
        let mut on_100 = estimate("seed_gather", "smol/current_thread", 5.0);
        on_100.param = Some("100".to_owned());
        let estimates = [
            estimate("seed_gather", "keen/current_thread", 1.0),
            on_100,
            estimate("seed_gather", "smol/multi_thread(2)", 5.0),
        ];
        assert!(pair_up(&estimates).is_empty());
    }

    #[test]
    fn smol_rows_target_one_and_tokio_targets_are_unchanged() {
        let pair = |other_name, other| Pair {
            group: "spawn_ready".to_owned(),
            label: "current_thread".to_owned(),
            keen: 20.0,
            other,
            other_name,
            floor: None,
            ids: Vec::new(),
            spread: 0.0,
        };
        let text = |t: &str, met| Some((t.to_owned(), met));
        assert_eq!(target(&pair("tokio", 220.0)), text("≥ 5× tokio", true));
        assert_eq!(target(&pair("smol", 20.0)), text("≥ 1.0× smol", true));
        assert_eq!(target(&pair("smol", 19.0)), text("≥ 1.0× smol", false));
        assert_eq!(target(&pair("floor", 14.0)), text("≤ 1.5× the floor", true));
        assert_eq!(
            target(&pair("floor", 13.0)),
            text("≤ 1.5× the floor", false)
        );
        let mut echo = pair("smol", 10.0);
        echo.group = "io_echo_64".to_owned();
        assert_eq!(target(&echo), text("≥ 1.0× smol", false));
    }

    #[test]
    fn the_timer_batch_target_is_the_time_above_the_floor() {
        let pair = |keen, tokio| Pair {
            group: "timeouts_100k_create_cancel".to_owned(),
            label: "multi_thread(2)".to_owned(),
            keen,
            other: tokio,
            other_name: "tokio",
            floor: Some(2.0),
            ids: Vec::new(),
            spread: 0.0,
        };
        // (keen - floor) / (tokio - floor): 3/8 met, 5/8 not.
        assert_eq!(
            target(&pair(5.0, 10.0)),
            Some((
                "time above the floor ≤ 0.5× tokio's (is 0.38×)".to_owned(),
                true
            ))
        );
        assert_eq!(target(&pair(7.0, 10.0)).map(|t| t.1), Some(false));
        let pairs = pair_up(&[
            estimate("timeouts_100k_create_cancel", "floor/multi_thread(2)", 2.0),
            estimate("timeouts_100k_create_cancel", "keen/multi_thread(2)", 5.0),
            estimate("timeouts_100k_create_cancel", "tokio/multi_thread(2)", 10.0),
        ]);
        assert_eq!(pairs[0].floor, Some(2.0), "peer pairs carry the floor");
    }
}
