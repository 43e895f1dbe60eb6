//! The built book, checked as a reader's browser shows it: every page loads without a JavaScript
//! error, every diagram is drawn, and every link and image on it leads somewhere.
//!
//! Links and images are checked in the HTML mdBook wrote: a relative `href` or `src` must name a
//! file of the book, and a `#fragment` an `id` on that page. Scripts need a browser: each page is
//! opened in headless Chromium (Debian's `chromium` package), which runs its scripts, then dumps
//! the page as they left it and logs the console. A diagram that did not draw is marked
//! `data-rendered="no"` by `docs/mermaid-init.js`; one that never ran is still a `mermaid` code
//! block; an uncaught error is in the console log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The browsers tried, in order, unless `WORKBOOK_CHROMIUM` names one.
const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// Every problem found in the book at `book` (docs/book), one line each: none means it holds.
pub fn check(book: &Path) -> anyhow::Result<Vec<String>> {
    if !book.join("index.html").is_file() {
        bail!("no built book in {}: run `just docs` first", book.display());
    }
    let browser = browser()?;
    let pages = pages(book)?;
    let texts: BTreeMap<PathBuf, String> = pages
        .iter()
        .map(|page| Ok((page.clone(), std::fs::read_to_string(page)?)))
        .collect::<anyhow::Result<_>>()?;
    let mut problems = Vec::new();
    for (page, html) in &texts {
        let name = page.strip_prefix(book).unwrap_or(page).display().to_string();
        for problem in broken_references(book, page, html, &texts) {
            problems.push(format!("{name}: {problem}"));
        }
        let (dom, console) = open_in_browser(&browser, page)?;
        for problem in script_problems(html, &dom, &console) {
            problems.push(format!("{name}: {problem}"));
        }
    }
    Ok(problems)
}

/// The pages a reader opens: every HTML file but the 404 page and the print page (which repeats
/// every other page). `toc.html` is one: the sidebar's table of contents, whose links are written
/// there and nowhere else in the static pages.
fn pages(book: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut pages = Vec::new();
    let mut dirs = vec![book.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "html")
                && !["404.html", "print.html"].iter().any(|skip| path.ends_with(skip))
            {
                pages.push(path);
            }
        }
    }
    pages.sort();
    Ok(pages)
}

fn browser() -> anyhow::Result<String> {
    if let Ok(named) = std::env::var("WORKBOOK_CHROMIUM") {
        return Ok(named);
    }
    BROWSERS
        .iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
        .map(|name| (*name).to_owned())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no headless browser to check the book with: install Debian's `chromium` package \
                 (apt-get install chromium), or name one in WORKBOOK_CHROMIUM"
            )
        })
}

/// The page's DOM once its scripts have run, and what its console logged.
fn open_in_browser(browser: &str, page: &Path) -> anyhow::Result<(String, String)> {
    let profile = std::env::temp_dir().join(format!("workbook-book-check-{}", std::process::id()));
    let output = Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            // Containers often give /dev/shm a few megabytes, too few for a renderer.
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--allow-file-access-from-files",
            "--enable-logging=stderr",
            "--v=0",
            // Time enough, on the page's own clock, for the diagrams to be drawn.
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .with_context(|| format!("running {browser}"))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !output.status.success() {
        bail!(
            "{browser} could not open {}: {}",
            page.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

// ANCHOR: script_problems
/// What went wrong on a page in the browser: an uncaught error or an error the page logged, a
/// diagram that did not draw, or one whose script never ran.
pub fn script_problems(html: &str, dom: &str, console: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for line in console.lines().filter(|line| line.contains(":CONSOLE")) {
        let logged = line.split_once("] ").map_or(line, |(_, message)| message);
        if logged.contains("Uncaught") || logged.contains("did not render") || line.contains(":ERROR:CONSOLE") {
            problems.push(format!("the console says {logged}"));
        }
    }
    let diagrams = html.matches(r#"class="language-mermaid""#).count();
    let drawn = dom.matches(r#"data-rendered="yes""#).count();
    let failed = dom.matches(r#"data-rendered="no""#).count();
    if failed > 0 {
        problems.push(format!("{failed} of {diagrams} diagrams did not render"));
    }
    if diagrams > drawn + failed {
        problems.push(format!(
            "{} of {diagrams} diagrams were never drawn: did mermaid-init.js run?",
            diagrams - drawn - failed
        ));
    }
    problems
}
// ANCHOR_END: script_problems

// ANCHOR: broken_references
/// The links and images of `page` that lead nowhere: a relative file that is not in the book, or
/// a `#fragment` that is no `id` on its page. Links to other sites are not followed.
pub fn broken_references(book: &Path, page: &Path, html: &str, pages: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (attribute, target) in references(html) {
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") || target.starts_with("data:") {
            continue;
        }
        let (file, fragment) = target
            .split_once('#')
            .map_or((target, None), |(file, f)| (file, Some(f)));
        let file = file.split('?').next().unwrap_or_default();
        let resolved = if file.is_empty() {
            page.to_owned()
        } else {
            normalised(&page.parent().unwrap_or(book).join(file))
        };
        if !resolved.starts_with(book) || !resolved.is_file() {
            problems.push(format!("{attribute}=\"{target}\" leads to no file of the book"));
            continue;
        }
        if let Some(fragment) = fragment.filter(|fragment| !fragment.is_empty()) {
            let text = match pages.get(&resolved) {
                Some(text) => text.clone(),
                None => std::fs::read_to_string(&resolved).unwrap_or_default(),
            };
            if !text.contains(&format!("id=\"{fragment}\"")) {
                problems.push(format!("{attribute}=\"{target}\": no id \"{fragment}\" on that page"));
            }
        }
    }
    problems
}
// ANCHOR_END: broken_references

/// Every `href` and `src` of the page's elements, in order.
fn references(html: &str) -> Vec<(&'static str, &str)> {
    let mut found = Vec::new();
    for attribute in ["href", "src"] {
        let opening = format!(" {attribute}=\"");
        let mut rest = html;
        while let Some(start) = rest.find(&opening) {
            rest = &rest[start + opening.len()..];
            let Some(end) = rest.find('"') else { break };
            found.push((attribute, &rest[..end]));
            rest = &rest[end..];
        }
    }
    found
}

/// `path` with its `.` and `..` steps resolved, without touching the disk.
fn normalised(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_a_missing_page_or_anchor_or_a_missing_image_is_named_and_the_rest_pass() {
        let book = std::env::temp_dir().join(format!("book-check-{}", std::process::id()));
        std::fs::create_dir_all(book.join("charts")).unwrap();
        std::fs::write(book.join("charts/g.svg"), "<svg/>").unwrap();
        let other = book.join("other.html");
        std::fs::write(&other, r#"<h2 id="there">There</h2>"#).unwrap();
        let page = book.join("page.html");
        let html = r##"<a href="other.html#there">ok</a> <a href="#here">ok</a> <h2 id="here"></h2>
            <a href="other.html#nowhere">bad anchor</a> <a href="gone.html">bad page</a>
            <img src="charts/g.svg"> <img src="charts/missing.svg"> <a href="../outside.html">out</a>
            <a href="https://example.com/x#y">external</a> <a href="#">top</a>"##;
        std::fs::write(&page, html).unwrap();
        let pages = BTreeMap::from([
            (page.clone(), html.to_owned()),
            (other.clone(), std::fs::read_to_string(&other).unwrap()),
        ]);

        let problems = broken_references(&book, &page, html, &pages);
        std::fs::remove_dir_all(&book).unwrap();

        assert_eq!(
            problems,
            [
                "href=\"other.html#nowhere\": no id \"nowhere\" on that page",
                "href=\"gone.html\" leads to no file of the book",
                "href=\"../outside.html\" leads to no file of the book",
                "src=\"charts/missing.svg\" leads to no file of the book",
            ]
        );
    }

    #[test]
    fn an_uncaught_error_a_diagram_that_failed_and_one_never_drawn_are_each_named() {
        let html = r#"<code class="language-mermaid">a</code><code class="language-mermaid">b</code><code class="language-mermaid">c</code>"#;
        let dom = r#"<div class="mermaid-diagram" data-rendered="yes"></div><div data-rendered="no" data-error="Parse error"></div>"#;
        let console = "[1:2:INFO:CONSOLE(10)] \"hello\", source: file:///x (10)\n\
                       [1:2:INFO:CONSOLE(3)] \"Uncaught TypeError: mermaid is not defined\", source: file:///y (3)\n";
        assert_eq!(
            script_problems(html, dom, console),
            [
                "the console says \"Uncaught TypeError: mermaid is not defined\", source: file:///y (3)",
                "1 of 3 diagrams did not render",
                "1 of 3 diagrams were never drawn: did mermaid-init.js run?",
            ]
        );
        let drawn = r#"<div data-rendered="yes"></div><div data-rendered="yes"></div><div data-rendered="yes"></div>"#;
        assert!(script_problems(html, drawn, "[1:2:INFO:CONSOLE(10)] \"hello\"").is_empty());
        assert!(script_problems("<p>no diagrams</p>", "<p>no diagrams</p>", "").is_empty());
    }
}
