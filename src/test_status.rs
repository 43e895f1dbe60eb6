//! Whether a chapter's tests passed on this machine, read from the last `just test`.
//!
//! `just test` runs cargo-nextest, which writes a JUnit report (configured in
//! `.config/nextest.toml`). Each test binary is a `<testsuite>` named after its package
//! (`harness`, `harness::it`, ...), with counts of tests and failures as attributes.

use std::collections::BTreeMap;
use std::path::Path;

/// Tests run and tests failed, per package.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub tests: u32,
    pub failed: u32,
}

/// The report of the last run, per package; empty when there is none.
pub fn read(report: &Path) -> BTreeMap<String, Counts> {
    std::fs::read_to_string(report)
        .map(|xml| parse(&xml))
        .unwrap_or_default()
}

/// Sums the `<testsuite>` elements of a JUnit report per package. Only the few attributes
/// nextest writes are read, so a small scan does the work of an XML parser.
pub fn parse(xml: &str) -> BTreeMap<String, Counts> {
    let mut packages: BTreeMap<String, Counts> = BTreeMap::new();
    for element in xml.split("<testsuite ").skip(1) {
        // A space in front, so that the first attribute is found like the others.
        let head = format!(" {}", element.split('>').next().unwrap_or_default());
        let Some(name) = attribute(&head, "name") else { continue };
        let package = name.split("::").next().unwrap_or(name).to_owned();
        let number = |key| attribute(&head, key).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
        let counts = packages.entry(package).or_default();
        counts.tests += number("tests");
        counts.failed += number("failures") + number("errors");
    }
    packages
}

fn attribute<'a>(head: &'a str, key: &str) -> Option<&'a str> {
    let start = head.find(&format!(" {key}=\""))? + key.len() + 3;
    let rest = &head[start..];
    Some(&rest[..rest.find('"')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_binary_of_a_package_and_counts_errors_as_failures() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="9" failures="1" errors="1">
    <testsuite name="harness" tests="5" disabled="0" errors="0" failures="0">
        <testcase name="names::tests::a" classname="harness"/>
    </testsuite>
    <testsuite name="harness::it" tests="3" disabled="0" errors="1" failures="1">
    </testsuite>
    <testsuite name="workbook::bin/workbook" tests="1" disabled="0" errors="0" failures="0">
    </testsuite>
</testsuites>"#;
        let counts = parse(xml);
        assert_eq!(counts["harness"], Counts { tests: 8, failed: 2 });
        assert_eq!(counts["workbook"], Counts { tests: 1, failed: 0 });
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn no_report_means_nothing_known() {
        assert!(read(Path::new("/nonexistent/junit.xml")).is_empty());
        assert!(parse("not xml at all").is_empty());
    }
}
