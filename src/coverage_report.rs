//! `workbook coverage --report`: the per-crate table of `docs/src/coverage.md`, from the JSON
//! summary that `cargo llvm-cov --json --summary-only` writes (`just coverage` runs both).
//!
//! Lines and regions side by side: a line is covered when any of it ran, a region (a branch's
//! arm, one side of `&&`) only when that part did, so regions are the stricter count.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The floor for a chapter library or the harness, in per cent of lines.
pub const FLOOR: f64 = 90.0;

/// Files left out of the measurement, each with its reason; the page lists them.
pub const EXCLUDED: &[(&str, &str)] = &[(
    "harness/src/containers.rs",
    "the Docker path: it runs only where a Docker engine answers, and neither the project's \
     machines nor CI have one. On a laptop with Docker the harness's own tests run through it \
     (`provision::every_provider_resolves_and_answers` prints the container each service came from).",
)];

#[derive(Deserialize)]
struct Export {
    data: Vec<Data>,
}

#[derive(Deserialize)]
struct Data {
    files: Vec<File>,
}

#[derive(Deserialize)]
struct File {
    filename: String,
    summary: Summary,
}

#[derive(Deserialize)]
struct Summary {
    lines: Count,
    regions: Count,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct Count {
    count: u64,
    covered: u64,
}

/// Lines and regions of one crate: (counted, covered) each.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Covered {
    pub lines: (u64, u64),
    pub regions: (u64, u64),
}

impl Covered {
    pub fn line_percent(&self) -> f64 {
        percent(self.lines)
    }
}

fn percent((count, covered): (u64, u64)) -> f64 {
    if count == 0 {
        100.0
    } else {
        covered as f64 * 100.0 / count as f64
    }
}

/// The crate a source file belongs to, from its path in the workspace: `chapters/<crate>`,
/// `harness`, or the `workbook` binary (`src/`). Tests and benches are not measured code.
fn crate_of(root: &Path, file: &str) -> Option<String> {
    let relative = Path::new(file).strip_prefix(root).ok()?;
    let parts: Vec<&str> = relative.iter().filter_map(|part| part.to_str()).collect();
    match parts.as_slice() {
        ["chapters", name, "src", ..] => Some((*name).to_owned()),
        ["harness", "src", ..] => Some("harness".to_owned()),
        ["src", ..] => Some("workbook".to_owned()),
        _ => None,
    }
}

fn excluded(root: &Path, file: &str) -> bool {
    let relative = Path::new(file).strip_prefix(root).unwrap_or(Path::new(file));
    EXCLUDED.iter().any(|(path, _)| relative == Path::new(path))
}

/// Sums the export's files per crate, leaving out [`EXCLUDED`].
pub fn per_crate(root: &Path, json: &str) -> anyhow::Result<BTreeMap<String, Covered>> {
    let export: Export = serde_json::from_str(json)?;
    let mut crates: BTreeMap<String, Covered> = BTreeMap::new();
    for file in export.data.iter().flat_map(|data| &data.files) {
        let Some(name) = crate_of(root, &file.filename) else {
            continue;
        };
        if excluded(root, &file.filename) {
            continue;
        }
        let entry = crates.entry(name).or_default();
        entry.lines.0 += file.summary.lines.count;
        entry.lines.1 += file.summary.lines.covered;
        entry.regions.0 += file.summary.regions.count;
        entry.regions.1 += file.summary.regions.covered;
    }
    Ok(crates)
}

/// The page: a row per crate, and whether the chapter libraries and the harness hold the floor.
pub fn render(crates: &BTreeMap<String, Covered>, made_by: &str) -> String {
    let mut page = String::from(
        "# Coverage\n\nWhich share of each crate's code the tests of `just test` run, against the real \
         services. Lines count as covered when any part of them ran; regions (a branch's arm, one side \
         of `&&`) only when that part did, so they are the stricter figure.\n\n",
    );
    page.push_str(&format!("Written by `{made_by}`. The floor for a chapter library and the harness is {FLOOR}% of lines; the `workbook` binary is reported but has no floor (its tours run under the CLI tests).\n\n"));
    page.push_str("| crate | lines | regions | floor |\n|---|---:|---:|---|\n");
    for (name, covered) in crates {
        let floor = match name.as_str() {
            "workbook" => "none",
            _ if covered.line_percent() >= FLOOR => "holds",
            _ => "BELOW",
        };
        page.push_str(&format!(
            "| `{name}` | {:.1}% ({} of {}) | {:.1}% ({} of {}) | {floor} |\n",
            covered.line_percent(),
            covered.lines.1,
            covered.lines.0,
            percent(covered.regions),
            covered.regions.1,
            covered.regions.0,
        ));
    }
    page.push_str("\nLeft out of the measurement:\n\n");
    for (path, reason) in EXCLUDED {
        page.push_str(&format!("- `{path}`: {reason}\n"));
    }
    page
}

/// The crates with a floor that are below it.
pub fn below_floor(crates: &BTreeMap<String, Covered>) -> Vec<String> {
    crates
        .iter()
        .filter(|(name, covered)| name.as_str() != "workbook" && covered.line_percent() < FLOOR)
        .map(|(name, covered)| format!("{name}: {:.1}% of lines", covered.line_percent()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"{"data": [{"files": [
        {"filename": "/w/chapters/02-repository/src/lib.rs", "summary": {"lines": {"count": 100, "covered": 95}, "regions": {"count": 50, "covered": 40}}},
        {"filename": "/w/chapters/02-repository/src/mapper.rs", "summary": {"lines": {"count": 100, "covered": 85}, "regions": {"count": 50, "covered": 45}}},
        {"filename": "/w/chapters/02-repository/tests/it/main.rs", "summary": {"lines": {"count": 10, "covered": 0}, "regions": {"count": 5, "covered": 0}}},
        {"filename": "/w/harness/src/lib.rs", "summary": {"lines": {"count": 10, "covered": 5}, "regions": {"count": 4, "covered": 2}}},
        {"filename": "/w/harness/src/containers.rs", "summary": {"lines": {"count": 90, "covered": 0}, "regions": {"count": 30, "covered": 0}}},
        {"filename": "/w/src/main.rs", "summary": {"lines": {"count": 10, "covered": 1}, "regions": {"count": 4, "covered": 1}}},
        {"filename": "/elsewhere/registry/sqlx/lib.rs", "summary": {"lines": {"count": 10, "covered": 1}, "regions": {"count": 4, "covered": 1}}}
    ]}]}"#;

    #[test]
    fn files_are_summed_per_crate_and_tests_dependencies_and_exclusions_are_left_out() {
        let crates = per_crate(Path::new("/w"), EXPORT).unwrap();
        assert_eq!(
            crates.keys().collect::<Vec<_>>(),
            ["02-repository", "harness", "workbook"]
        );
        assert_eq!(
            crates["02-repository"],
            Covered {
                lines: (200, 180),
                regions: (100, 85)
            }
        );
    }

    #[test]
    fn the_floor_holds_or_names_who_is_below_it_and_the_binary_has_none() {
        let crates = per_crate(Path::new("/w"), EXPORT).unwrap();
        let page = render(&crates, "just coverage");
        assert!(
            page.contains("| `02-repository` | 90.0% (180 of 200) | 85.0% (85 of 100) | holds |"),
            "{page}"
        );
        assert!(
            page.contains("| `harness` | 50.0% (5 of 10) | 50.0% (2 of 4) | BELOW |"),
            "{page}"
        );
        assert!(
            page.contains("| `workbook` | 10.0% (1 of 10) | 25.0% (1 of 4) | none |"),
            "{page}"
        );
        assert_eq!(below_floor(&crates), ["harness: 50.0% of lines"]);
        assert!(
            page.contains("- `harness/src/containers.rs`: the Docker path"),
            "the page lists what it left out, with the reason: {page}"
        );
    }
}
