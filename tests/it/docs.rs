//! The book shows code from tested files through mdBook's `{{#include file:anchor}}`. This test
//! makes sure every such include still finds its file and its anchor, so that the docs cannot
//! drift from the code without a failing test (mdBook itself only warns).

use std::path::{Path, PathBuf};

fn markdown_pages(dir: &Path) -> Vec<PathBuf> {
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(dir).expect("docs/src exists") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            pages.extend(markdown_pages(&path));
        } else if path.extension().is_some_and(|ext| ext == "md") {
            pages.push(path);
        }
    }
    pages
}

/// Every `{{#include path}}` or `{{#include path:anchor}}` in `page`.
fn includes(page: &str) -> Vec<(String, Option<String>)> {
    page.split("{{#include ")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}"))
        .map(|(target, _)| match target.trim().split_once(':') {
            Some((path, anchor)) if anchor.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') => {
                (path.to_owned(), Some(anchor.to_owned()))
            }
            _ => (target.trim().to_owned(), None),
        })
        .collect()
}

#[test]
fn every_include_in_the_book_finds_its_file_and_anchor() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src");
    let mut checked = 0;
    for page in markdown_pages(&docs) {
        let text = std::fs::read_to_string(&page).unwrap();
        for (path, anchor) in includes(&text) {
            let file = page.parent().unwrap().join(&path);
            let source = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{} includes {path}, which cannot be read: {e}", page.display()));
            if let Some(anchor) = anchor {
                for marker in [format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}")] {
                    assert!(
                        source.contains(&marker),
                        "{} includes {path}:{anchor}, but {marker:?} is not in it",
                        page.display()
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "the book includes no code at all");
}

#[test]
fn includes_are_read_with_and_without_anchors() {
    let page = "a {{#include ../../harness/src/x.rs:anchor_one}} b {{#include ../f.sql}} c";
    assert_eq!(
        includes(page),
        [
            ("../../harness/src/x.rs".to_owned(), Some("anchor_one".to_owned())),
            ("../f.sql".to_owned(), None)
        ]
    );
}
