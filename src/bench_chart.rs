//! A bar chart of one benchmark group's ratios, as an SVG file beside the benchmarks page.
//!
//! A table says 28.95x; a bar twenty-nine times longer than its neighbour says it at a glance. The
//! chart is drawn from the same results as the group's table, in the same call of `workbook bench
//! --report`, so the two always agree; it names the command that measured it. Plain SVG text:
//! reviewed like code, shown by any browser, no script.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where the label column ends and the bars begin, and how long the longest bar is, in pixels.
const LABEL_WIDTH: usize = 250;
const BAR_WIDTH: usize = 300;
const ROW_HEIGHT: usize = 26;

/// The chart of `functions` (nanoseconds per iteration, by function), fastest first, each bar as
/// long as its ratio to the fastest, with `measured_by` (the command) beneath.
pub fn svg(group: &str, functions: &BTreeMap<String, f64>, measured_by: &str) -> String {
    let mut rows: Vec<(&String, f64)> = functions.iter().map(|(name, ns)| (name, *ns)).collect();
    rows.sort_by(|a, b| a.1.total_cmp(&b.1));
    let fastest = rows.first().map_or(1.0, |row| row.1);
    let slowest = rows.last().map_or(1.0, |row| row.1);
    let width = LABEL_WIDTH + BAR_WIDTH + 150;
    let height = 40 + rows.len() * ROW_HEIGHT + 30;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="13">"#
    );
    let _ = writeln!(
        svg,
        "<title>{}: time per iteration, as a ratio to the fastest</title>",
        escaped(group)
    );
    let _ = writeln!(svg, r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##);
    let _ = writeln!(
        svg,
        r##"<text x="10" y="22" font-weight="bold" fill="#222222">{}</text>"##,
        escaped(group)
    );
    for (index, (function, nanoseconds)) in rows.iter().enumerate() {
        let ratio = nanoseconds / fastest;
        let y = 40 + index * ROW_HEIGHT;
        // At least a sliver, so that the fastest of a very uneven group still shows.
        let bar = ((nanoseconds / slowest) * BAR_WIDTH as f64).round().max(2.0) as usize;
        let fill = if index == 0 { "#3b7d3b" } else { "#4a6fa5" };
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#222222">{}</text>"##,
            LABEL_WIDTH - 8,
            y + 17,
            escaped(function)
        );
        let _ = writeln!(
            svg,
            r#"<rect class="bar" x="{LABEL_WIDTH}" y="{}" width="{bar}" height="{}" fill="{fill}"><title>{} {:.2}x</title></rect>"#,
            y + 4,
            ROW_HEIGHT - 8,
            escaped(function),
            ratio
        );
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" fill="#222222">{ratio:.2}x</text>"##,
            LABEL_WIDTH + bar + 6,
            y + 17
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="10" y="{}" fill="#666666">measured by `{}`</text>"##,
        height - 12,
        escaped(measured_by)
    );
    svg.push_str("</svg>\n");
    svg
}

/// The file name of a group's chart, under `docs/src/charts/`.
pub fn file_name(group: &str) -> String {
    format!("{group}.svg")
}

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar_widths(svg: &str) -> Vec<usize> {
        svg.lines()
            .filter(|line| line.contains(r#"class="bar""#))
            .map(|line| {
                let width = line.split(r#"width=""#).nth(1).unwrap();
                width[..width.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn bars_are_in_proportion_fastest_first_with_their_ratios_and_the_command() {
        let functions = BTreeMap::from([
            ("commit_then_publish".to_owned(), 7.84e6),
            ("business_insert".to_owned(), 270.89e3),
            ("business_insert_plus_outbox".to_owned(), 363.12e3),
        ]);
        let chart = svg("ch07_write_path_postgres", &functions, "just bench ch07");

        let widths = bar_widths(&chart);
        assert_eq!(widths.len(), 3);
        assert_eq!(widths[2], BAR_WIDTH, "the slowest bar is the longest");
        assert!(
            widths[0] < widths[1] && widths[1] < widths[2],
            "fastest first: {widths:?}"
        );
        let order: Vec<usize> = [
            "business_insert<",
            "business_insert_plus_outbox<",
            "commit_then_publish<",
        ]
        .iter()
        .map(|label| chart.find(label).unwrap())
        .collect();
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{chart}");
        for ratio in ["1.00x", "1.34x", "28.94x"] {
            assert!(chart.contains(&format!(">{ratio}<")), "{ratio} in\n{chart}");
        }
        assert!(chart.contains("measured by `just bench ch07`"));
        assert!(chart.starts_with("<svg ") && chart.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn names_are_escaped_and_a_tiny_bar_still_shows() {
        let functions = BTreeMap::from([("a<b".to_owned(), 1.0), ("slow".to_owned(), 1e9)]);
        let chart = svg("g&h", &functions, "just bench");
        assert!(chart.contains("g&amp;h") && chart.contains("a&lt;b") && !chart.contains("a<b"));
        assert_eq!(bar_widths(&chart)[0], 2);
    }
}
