//! `docs/benchmarks.svg`: the ratios as horizontal bars, one row per
//! workload and flavour with a bar per peer (tokio / keen and smol / keen,
//! each in its peer's colour, with a legend), and the idle-tasks memory
//! ratio against tokio as a last row.

use std::fmt::Write as _;

use crate::Memory;
use crate::pairs::{PEERS, Pair};

/// Each peer's bar colour, in [`PEERS`] order.
const COLORS: [&str; 2] = ["#3a6ea5", "#d9822b"];
/// The ratio's text colour when keen is behind (ratio < 1).
const BEHIND: &str = "#c0504d";

/// One row of the chart: its label and a (peer index, ratio) per bar.
type Row = (String, Vec<(usize, f64)>);

/// The rows: every workload/flavour that has a peer pair, in pair order.
fn rows(pairs: &[Pair], memory: Option<&Memory>) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for pair in pairs {
        let Some(peer) = PEERS.iter().position(|&p| p == pair.other_name) else {
            continue;
        };
        let label = format!("{} — {}", pair.group, pair.label);
        match rows.last_mut() {
            Some((last, bars)) if *last == label => bars.push((peer, pair.ratio())),
            _ => rows.push((label, vec![(peer, pair.ratio())])),
        }
    }
    if let Some(m) = memory {
        rows.push((
            format!("peak RSS, {} idle tasks", m.tasks),
            vec![(0, m.tokio_kib as f64 / m.keen_kib as f64)],
        ));
    }
    rows
}

pub fn render_svg(pairs: &[Pair], memory: Option<&Memory>) -> String {
    let rows = rows(pairs, memory);
    let bar = 9.0;
    let gap = 2.0;
    let pad = 6.0;
    let row_h = |bars: usize| pad + bars as f64 * (bar + gap);
    let label_w = 470.0;
    let chart_w = 420.0;
    let top = 52.0;
    let max = rows
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|b| b.1))
        .fold(2.0_f64, f64::max)
        .min(12.0);
    let scale = chart_w / max;
    let bottom = top + rows.iter().map(|(_, bars)| row_h(bars.len())).sum::<f64>();
    let height = bottom + 30.0;
    let width = label_w + chart_w + 80.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" font-size=\"14\">ratio peer / keen (&gt; 1: keen faster or smaller)</text>"
    );
    for (i, (peer, color)) in PEERS.iter().zip(COLORS).enumerate() {
        let x = 10.0 + 140.0 * i as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"30\" width=\"12\" height=\"12\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"40\">{peer} / keen</text>",
            x + 16.0
        );
    }
    let mut y = top;
    for (label, bars) in &rows {
        let h = row_h(bars.len());
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + h / 2.0 + 4.0,
            xml_escape(label)
        );
        for (j, &(peer, ratio)) in bars.iter().enumerate() {
            let by = y + pad / 2.0 + j as f64 * (bar + gap);
            let w = (ratio.min(max) * scale).max(1.0);
            let text = if ratio >= 1.0 { "#000" } else { BEHIND };
            let _ = writeln!(
                svg,
                "<rect x=\"{label_w}\" y=\"{by:.1}\" width=\"{w:.1}\" height=\"{bar}\" fill=\"{}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{text}\">{ratio:.2}×</text>",
                COLORS[peer],
                label_w + w + 4.0,
                by + bar - 1.0
            );
        }
        y += h;
    }
    let one = label_w + scale;
    let _ = writeln!(
        svg,
        "<line x1=\"{one:.1}\" y1=\"{}\" x2=\"{one:.1}\" y2=\"{bottom:.1}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{one:.1}\" y=\"{:.1}\" text-anchor=\"middle\">1×</text>",
        top - 4.0,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(group: &str, other_name: &'static str, other: f64) -> Pair {
        Pair {
            group: group.to_owned(),
            label: "current_thread".to_owned(),
            keen: 10.0,
            other,
            other_name,
            floor: None,
            ids: Vec::new(),
            spread: 0.0,
        }
    }

    #[test]
    fn a_row_per_workload_with_a_bar_per_peer_and_no_floor_bars() {
        let pairs = [
            pair("spawn_ready", "tokio", 50.0),
            pair("spawn_ready", "smol", 8.0),
            pair("spawn_ready", "floor", 5.0),
            pair("mutex_contended", "smol", 20.0),
        ];
        let memory = Memory {
            keen_kib: 100,
            tokio_kib: 150,
            tasks: 7,
        };
        let rows = rows(&pairs, Some(&memory));
        assert_eq!(
            rows,
            [
                (
                    "spawn_ready — current_thread".to_owned(),
                    vec![(0, 5.0), (1, 0.8)]
                ),
                (
                    "mutex_contended — current_thread".to_owned(),
                    vec![(1, 2.0)]
                ),
                ("peak RSS, 7 idle tasks".to_owned(), vec![(0, 1.5)]),
            ]
        );
        let svg = render_svg(&pairs, Some(&memory));
        assert_eq!(svg.matches("<rect").count(), 2 + 4, "legend + bars");
        assert!(svg.contains("tokio / keen") && svg.contains("smol / keen"));
        assert!(svg.contains(&format!("fill=\"{BEHIND}\">0.80×")));
    }
}
