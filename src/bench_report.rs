//! Turns criterion's results into `docs/src/benchmarks.md`: one table per group, with ratios.
//!
//! Each benchmark group compares alternatives measured in one run on one machine, so the ratio
//! between them is what carries over to another machine; the absolute times are shown for scale.
//! Criterion keeps its latest estimate of each function in
//! `target/criterion/<group>/<function>/new/estimates.json`.
//!
//! That directory keeps whatever any earlier run left there, so a table is only honest if its
//! functions were measured together: [`one_run`] keeps, in each group, the functions that the
//! bench sources still declare and that were measured in the same run as the group's newest, and
//! lists what it left out and why.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use serde::Deserialize;

/// Criterion's headline figure is the slope of time over iterations when it sampled linearly,
/// and the mean otherwise; the report quotes the same number criterion prints.
#[derive(Deserialize)]
struct Estimates {
    mean: Estimate,
    slope: Option<Estimate>,
}

impl Estimates {
    fn headline(&self) -> f64 {
        self.slope.as_ref().unwrap_or(&self.mean).point_estimate
    }
}

#[derive(Deserialize)]
struct Estimate {
    /// Nanoseconds per iteration.
    point_estimate: f64,
}

/// Nanoseconds per iteration, by group and then by function.
pub type Results = BTreeMap<String, BTreeMap<String, f64>>;

/// One function's estimate, and when criterion wrote it.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub nanoseconds: f64,
    pub at: SystemTime,
}

/// Every estimate found, by group and then by function.
pub type Found = BTreeMap<String, BTreeMap<String, Measured>>;

/// How far apart the functions of one group may have been measured and still belong to one run:
/// longer than any group here takes (the relay's, about five minutes), far shorter than the time
/// between two runs of `just bench`.
const ONE_RUN: Duration = Duration::from_secs(15 * 60);

// ANCHOR: one_run
/// The results that make honest tables: in each group, the functions the bench sources declare,
/// measured within [`ONE_RUN`] of the group's newest. Also returns, one line each, what was left
/// out and why.
pub fn one_run(found: Found, sources: &str) -> (Results, Vec<String>) {
    let mut results = Results::new();
    let mut left_out = Vec::new();
    for (group, functions) in found {
        if !declared(&group, sources) {
            left_out.push(format!("`{group}`: no benchmark declares this group any more"));
            continue;
        }
        let newest = functions.values().map(|m| m.at).max().unwrap_or(SystemTime::UNIX_EPOCH);
        for (function, measured) in functions {
            if !declared(&function, sources) {
                left_out.push(format!(
                    "`{group}/{function}`: no benchmark declares this function any more"
                ));
            } else if newest.duration_since(measured.at).unwrap_or_default() > ONE_RUN {
                left_out.push(format!(
                    "`{group}/{function}`: measured in an earlier run than the rest of its group"
                ));
            } else {
                results
                    .entry(group.clone())
                    .or_default()
                    .insert(function, measured.nanoseconds);
            }
        }
    }
    (results, left_out)
}
// ANCHOR_END: one_run

/// Whether the bench sources declare `name`: as a string literal, or as the literal start of a
/// formatted one (`format!("ch02_get_user_{backend}")` declares `ch02_get_user_postgres`).
fn declared(name: &str, sources: &str) -> bool {
    sources.contains(&format!("\"{name}\""))
        || name
            .match_indices('_')
            .any(|(end, _)| sources.contains(&format!("\"{}_{{", &name[..end])))
}

/// The text of every benchmark source in the workspace.
pub fn bench_sources(root: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    let mut dirs: Vec<std::path::PathBuf> = vec![root.join("harness/benches")];
    for chapter in std::fs::read_dir(root.join("chapters"))? {
        dirs.push(chapter?.path().join("benches"));
    }
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                text.push_str(&std::fs::read_to_string(&path)?);
                text.push('\n');
            }
        }
    }
    Ok(text)
}

/// Reads every estimate under criterion's output directory.
pub fn collect(criterion_dir: &Path) -> anyhow::Result<Found> {
    let mut results = Found::new();
    let groups = std::fs::read_dir(criterion_dir).with_context(|| {
        format!(
            "no benchmark results in {}: run `just bench` first",
            criterion_dir.display()
        )
    })?;
    for group in groups {
        let group = group?.path();
        let Some(group_name) = group.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if !group.is_dir() || group_name == "report" {
            continue;
        }
        for function in std::fs::read_dir(&group)? {
            let function = function?.path();
            let estimates = function.join("new").join("estimates.json");
            let Some(function_name) = function.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !estimates.is_file() {
                continue;
            }
            let parsed: Estimates = serde_json::from_str(&std::fs::read_to_string(&estimates)?)
                .with_context(|| format!("reading {}", estimates.display()))?;
            let at = std::fs::metadata(&estimates)?.modified()?;
            results.entry(group_name.clone()).or_default().insert(
                function_name.to_owned(),
                Measured {
                    nanoseconds: parsed.headline(),
                    at,
                },
            );
        }
    }
    Ok(results)
}

/// The sections of an earlier page, by group: a run of some benchmarks (`just bench ch07`) keeps
/// the tables of the groups it did not measure.
pub fn earlier_sections(page: &str) -> BTreeMap<String, String> {
    let mut sections = BTreeMap::new();
    for section in page.split("\n## `").skip(1) {
        // A group's section ends at the next heading of any kind: the page's own closing sections
        // (what a run left out) are not the last group's, and are written afresh by each run.
        let section = section.split_once("\n## ").map_or(section, |(own, _)| own);
        if let Some((group, _)) = section.split_once('`') {
            sections.insert(group.to_owned(), format!("## `{}\n", section.trim_end()));
        }
    }
    sections
}

/// The Markdown page: for each group, its functions from fastest to slowest; groups this run did
/// not measure keep their `earlier` section.
pub fn render(results: &Results, left_out: &[String], earlier: &BTreeMap<String, String>, made_by: &str) -> String {
    let mut page = String::from("# Benchmarks\n\n");
    let _ = writeln!(
        page,
        "Each table compares alternatives measured in one run on one machine. The ratio is to the fastest \
         function of the group; absolute times depend on the machine.\n\nMade by `{made_by}`.\n"
    );
    if results.is_empty() && earlier.is_empty() {
        page.push_str("No results yet: run `just bench`.\n");
    }
    let mut groups: Vec<&String> = results.keys().chain(earlier.keys()).collect();
    groups.sort();
    groups.dedup();
    for group in groups {
        let Some(functions) = results.get(group) else {
            let _ = writeln!(page, "{}", earlier[group]);
            continue;
        };
        let fastest = functions.values().copied().fold(f64::INFINITY, f64::min);
        let mut rows: Vec<(&String, &f64)> = functions.iter().collect();
        rows.sort_by(|a, b| a.1.total_cmp(b.1));
        let _ = writeln!(
            page,
            "## `{group}`\n\n| function | time per iteration | ratio |\n|---|---:|---:|"
        );
        for (function, mean) in rows {
            let _ = writeln!(page, "| `{function}` | {} | {:.2}x |", human(*mean), mean / fastest);
        }
        // Drawn from these same results by `workbook bench --report` (see `bench_chart`).
        let _ = writeln!(page, "\n![`{group}`: the ratios](charts/{group}.svg)");
        page.push('\n');
    }
    if !left_out.is_empty() {
        page.push_str(
            "## Left out of this report

Found under `target/criterion`, but not part of one honest table:

",
        );
        for line in left_out {
            let _ = writeln!(page, "- {line}");
        }
    }
    page
}

/// Nanoseconds in the unit that reads best.
fn human(nanoseconds: f64) -> String {
    match nanoseconds {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.0} ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes an estimates file as criterion does: a slope when it sampled linearly, else null.
    fn write_estimate(root: &Path, group: &str, function: &str, mean_ns: f64, slope_ns: Option<f64>) {
        let dir = root.join(group).join(function).join("new");
        std::fs::create_dir_all(&dir).unwrap();
        let estimate =
            |ns: f64| format!(r#"{{"confidence_interval":{{}},"point_estimate":{ns},"standard_error":1.0}}"#);
        let slope = slope_ns.map_or("null".to_owned(), estimate);
        let json = format!(r#"{{"mean":{},"slope":{slope}}}"#, estimate(mean_ns));
        std::fs::write(dir.join("estimates.json"), json).unwrap();
    }

    #[test]
    fn ratios_are_to_the_fastest_function_of_each_group() {
        let root = std::env::temp_dir().join(format!("bench-report-{}", std::process::id()));
        write_estimate(&root, "harness_provision_postgres", "template_clone", 50e6, Some(45e6));
        write_estimate(&root, "harness_provision_postgres", "create_and_migrate", 236e6, None);
        write_estimate(&root, "other", "only", 1500.0, None);
        std::fs::create_dir_all(root.join("report")).unwrap();

        let sources = r#""harness_provision_postgres" "template_clone" "create_and_migrate" "other" "only""#;
        let (results, left_out) = one_run(collect(&root).unwrap(), sources);
        let page = render(&results, &left_out, &BTreeMap::new(), "just bench");
        std::fs::remove_dir_all(&root).unwrap();
        assert!(left_out.is_empty(), "{left_out:?}");

        assert_eq!(results.len(), 2);
        let clone = page.find("| `template_clone` | 45.00 ms | 1.00x |").expect(&page);
        let migrate = page.find("| `create_and_migrate` | 236.00 ms | 5.24x |").expect(&page);
        assert!(clone < migrate, "fastest first:\n{page}");
        assert!(page.contains("| `only` | 1.50 µs | 1.00x |"), "{page}");
        assert!(
            page.contains("![`other`: the ratios](charts/other.svg)"),
            "each measured group shows its chart: {page}"
        );
    }

    #[test]
    fn an_earlier_runs_left_out_section_is_not_kept_with_the_last_group() {
        let earlier = "# Benchmarks\n\n## `last`\n\n| function | time per iteration | ratio |\n|---|---:|---:|\n\
                       | `a` | 1.00 ms | 1.00x |\n\n## Left out of this report\n\n- `last/gone`: no benchmark declares it\n";

        let sections = earlier_sections(earlier);

        assert_eq!(sections.len(), 1);
        assert!(!sections["last"].contains("Left out"), "{}", sections["last"]);
        assert!(sections["last"].contains("| `a` | 1.00 ms | 1.00x |"));
    }

    #[test]
    fn groups_not_measured_this_time_keep_their_earlier_tables() {
        let earlier = "# Benchmarks\n\nintro\n\n## `kept`\n\n| function | time per iteration | ratio |\n|---|---:|---:|\n\
                       | `a` | 1.00 ms | 1.00x |\n\n## `remeasured`\n\n| function | time per iteration | ratio |\n\
                       |---|---:|---:|\n| `old` | 9.00 ms | 1.00x |\n";
        let mut results = Results::new();
        results
            .entry("remeasured".into())
            .or_default()
            .insert("new".into(), 2e6);

        let page = render(&results, &[], &earlier_sections(earlier), "just bench");

        assert!(
            page.contains(
                "## `kept`\n\n| function | time per iteration | ratio |\n|---|---:|---:|\n| `a` | 1.00 ms | 1.00x |\n"
            ),
            "{page}"
        );
        assert!(page.contains("| `new` | 2.00 ms | 1.00x |"), "{page}");
        assert!(!page.contains("`old`"), "a remeasured group is replaced:\n{page}");
        assert!(
            page.find("## `kept`") < page.find("## `remeasured`"),
            "groups by name:\n{page}"
        );
    }

    /// What `target/criterion` keeps from earlier runs stays out of the tables: a function no
    /// source declares (a scratch benchmark since deleted), a function measured a day before the
    /// rest of its group, a group no source declares. Each is listed under "Left out".
    #[test]
    fn only_functions_declared_and_measured_together_make_a_table() {
        let root = std::env::temp_dir().join(format!("bench-report-runs-{}", std::process::id()));
        write_estimate(&root, "ch07_relay_postgres", "outbox_relay_10k", 236e6, None);
        write_estimate(&root, "ch07_relay_postgres", "direct_produce_10k", 87e6, None);
        write_estimate(&root, "ch07_relay_postgres", "scratch_noop_relay_10k", 191e6, None);
        write_estimate(&root, "ch07_relay_postgres", "outbox_relay_10k_one_relay", 355e6, None);
        write_estimate(&root, "ch02_get_user_postgres", "join_one_query", 300e3, None);
        write_estimate(&root, "gone_group", "anything", 1e3, None);
        let yesterday = SystemTime::now() - Duration::from_secs(24 * 60 * 60);
        let stale = root.join("ch07_relay_postgres/outbox_relay_10k_one_relay/new/estimates.json");
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(yesterday)
            .unwrap();
        let sources = r#"c.benchmark_group("ch07_relay_postgres"); ("outbox_relay_10k", ..) ("direct_produce_10k")
                         ("outbox_relay_10k_one_relay") format!("ch02_get_user_{backend}") "join_one_query""#;

        let (results, left_out) = one_run(collect(&root).unwrap(), sources);
        let page = render(&results, &left_out, &BTreeMap::new(), "just bench");
        std::fs::remove_dir_all(&root).unwrap();

        let relay = &results["ch07_relay_postgres"];
        assert_eq!(
            relay.keys().collect::<Vec<_>>(),
            ["direct_produce_10k", "outbox_relay_10k"],
            "{left_out:?}"
        );
        assert!(
            results.contains_key("ch02_get_user_postgres"),
            "a formatted group name is declared"
        );
        assert!(!results.contains_key("gone_group"));
        for reason in [
            "`ch07_relay_postgres/scratch_noop_relay_10k`: no benchmark declares",
            "`ch07_relay_postgres/outbox_relay_10k_one_relay`: measured in an earlier run",
            "`gone_group`: no benchmark declares this group",
        ] {
            assert!(
                left_out.iter().any(|line| line.contains(reason)),
                "{reason}: {left_out:?}"
            );
            assert!(page.contains(reason), "{page}");
        }
        assert!(!page.contains("| `scratch_noop_relay_10k`"), "{page}");
    }

    #[test]
    fn no_results_directory_is_an_error_that_says_what_to_run() {
        let error = collect(Path::new("/nonexistent/criterion")).unwrap_err();
        assert!(error.to_string().contains("just bench"), "{error}");
    }
}
