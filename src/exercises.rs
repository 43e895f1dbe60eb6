//! The exercises: where they are, how a learner's attempt is checked, and what the learner has
//! done so far.
//!
//! A chapter's exercises are a crate of their own, `chapters/<chapter>/exercises`: each module of
//! its `src/lib.rs` is one exercise (the learner's file, in the order the learner meets them),
//! with its statement in `statements/<name>.md`, its hints in `hints/<name>.md` (separated by
//! lines of `---`), a reference solution in `solutions/<name>.rs`, and its checks in
//! `tests/it/<name>.rs`, which run on real services through the harness.
//!
//! A check is a cargo-nextest run of the exercise's tests, read through nextest's JSON messages,
//! so that a learner sees each failing check as a sentence (the test's name) and the assertion's
//! own words. The ordinary test run leaves the exercise crates out (`.config/nextest.toml`), since
//! their checks fail until a learner does the work; `just test` instead checks each exercise
//! both ways ([`verify`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// One exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// The chapter's directory name, such as `03-transaction-manager`.
    pub chapter: String,
    /// The exercise crate's package, such as `ch03-exercises`.
    pub package: String,
    /// The module's name, which names the exercise: `register_atomically`.
    pub name: String,
    /// The exercise crate's directory.
    pub dir: PathBuf,
}

impl Exercise {
    /// The learner's file.
    pub fn file(&self) -> PathBuf {
        self.dir.join("src").join(format!("{}.rs", self.name))
    }

    pub fn solution(&self) -> PathBuf {
        self.dir.join("solutions").join(format!("{}.rs", self.name))
    }

    pub fn statement(&self) -> PathBuf {
        self.dir.join("statements").join(format!("{}.md", self.name))
    }

    /// The hints, in the order they are given.
    pub fn hints(&self) -> anyhow::Result<Vec<String>> {
        let path = self.dir.join("hints").join(format!("{}.md", self.name));
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(text
            .split("\n---\n")
            .map(|hint| hint.trim().to_owned())
            .filter(|hint| !hint.is_empty())
            .collect())
    }

    /// The chapter's number, as the list shows it.
    pub fn chapter_number(&self) -> &str {
        self.chapter.split('-').next().unwrap_or(&self.chapter)
    }

    /// The file's path from the workspace root, for messages.
    pub fn shown(&self, root: &Path, path: &Path) -> String {
        path.strip_prefix(root).unwrap_or(path).display().to_string()
    }
}

/// Every exercise of every chapter, chapters in order and each chapter's in its `lib.rs` order.
pub fn discover(root: &Path) -> anyhow::Result<Vec<Exercise>> {
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(root.join("chapters"))
        .context("reading chapters/")?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("exercises")))
        .filter(|dir| dir.join("src/lib.rs").is_file())
        .collect();
    chapters.sort();
    let mut exercises = Vec::new();
    for dir in chapters {
        let chapter = dir
            .parent()
            .and_then(Path::file_name)
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))?;
        let package = manifest
            .lines()
            .find_map(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .with_context(|| format!("no package name in {}", dir.join("Cargo.toml").display()))?
            .to_owned();
        let lib = std::fs::read_to_string(dir.join("src/lib.rs"))?;
        for name in lib
            .lines()
            .filter_map(|line| line.strip_prefix("pub mod ")?.strip_suffix(';'))
        {
            exercises.push(Exercise {
                chapter: chapter.clone(),
                package: package.clone(),
                name: name.to_owned(),
                dir: dir.clone(),
            });
        }
    }
    Ok(exercises)
}

/// Finds an exercise by name, with the known names in the error.
pub fn find<'a>(exercises: &'a [Exercise], name: &str) -> anyhow::Result<&'a Exercise> {
    exercises
        .iter()
        .find(|exercise| exercise.name == name)
        .with_context(|| {
            let known: Vec<&str> = exercises.iter().map(|exercise| exercise.name.as_str()).collect();
            format!("no exercise called {name:?}; the exercises are: {}", known.join(", "))
        })
}

/// What one check said about one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The exercise (module) the test belongs to.
    pub exercise: String,
    /// The test's own name, within its module.
    pub test: String,
    pub passed: bool,
    /// For a failure: the panic's message, without the backtrace.
    pub message: String,
}

/// The outcome of a run of checks.
#[derive(Debug, Default)]
pub struct Checked {
    pub tests: Vec<TestResult>,
    /// Set when nothing ran: the exercise crate did not build, with the compiler's last words.
    pub build_error: Option<String>,
}

impl Checked {
    /// The results of one exercise's tests.
    pub fn of<'a>(&'a self, exercise: &'a str) -> impl Iterator<Item = &'a TestResult> {
        self.tests.iter().filter(move |test| test.exercise == exercise)
    }

    /// Whether `exercise` has tests and they all passed.
    pub fn passed(&self, exercise: &str) -> bool {
        self.of(exercise).next().is_some() && self.of(exercise).all(|test| test.passed)
    }
}

/// Where the checks build: `CARGO_TARGET_DIR` when set (a scratch copy reuses the original's
/// builds that way), else the workspace's `target/`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Runs the checks of `packages` (all their tests, or those of `only` exercise) in the workspace
/// at `workspace`, building into `target`.
pub fn run_checks(workspace: &Path, target: &Path, packages: &[&str], only: Option<&str>) -> anyhow::Result<Checked> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        .env("NEXTEST_EXPERIMENTAL_LIBTEST_JSON", "1")
        .args(["nextest", "run", "--no-fail-fast", "--ignore-default-filter"])
        .args(["--message-format", "libtest-json", "--final-status-level", "none"]);
    for package in packages {
        command.args(["-p", package]);
    }
    if let Some(exercise) = only {
        command.args(["-E", &format!("test(/^{exercise}::/)")]);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .context("running cargo nextest (install it with `cargo install cargo-nextest`)")?;
    let mut checked = Checked {
        tests: parse_messages(&String::from_utf8_lossy(&output.stdout)),
        build_error: None,
    };
    if checked.tests.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        checked.build_error = Some(tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    Ok(checked)
}

/// Reads nextest's libtest-style JSON lines: one `{"type":"test","event":"ok"|"failed",...}` per
/// finished test, named `<binary>$<module>::<test>`.
pub fn parse_messages(stdout: &str) -> Vec<TestResult> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["type"] == "test")
        .filter_map(|message| {
            let passed = match message["event"].as_str()? {
                "ok" => true,
                "failed" => false,
                _ => return None,
            };
            let full = message["name"].as_str()?;
            let path = full.rsplit_once('$').map_or(full, |(_, path)| path);
            let (exercise, test) = path.split_once("::")?;
            Some(TestResult {
                exercise: exercise.to_owned(),
                test: test.to_owned(),
                passed,
                message: panic_message(message["stdout"].as_str().unwrap_or_default()),
            })
        })
        .collect()
}

/// The lines of a test's output from its panic to the backtrace: what the assertion said.
fn panic_message(output: &str) -> String {
    output
        .lines()
        .skip_while(|line| !line.contains(" panicked at "))
        .skip(1)
        .take_while(|line| !line.starts_with("stack backtrace:") && !line.starts_with("note: run with"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// A test's name as a sentence: `a_registration_saves_both` → "a registration saves both".
pub fn plain(test: &str) -> String {
    test.replace("::", ": ").replace('_', " ")
}

/// What the learner has done, kept in `.workbook/progress` (outside version control).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: BTreeSet<String>,
    /// How many hints of each exercise were shown.
    pub hints: BTreeMap<String, usize>,
}

impl Progress {
    pub fn path(root: &Path) -> PathBuf {
        root.join(".workbook/progress")
    }

    /// The progress so far; none yet is an empty one.
    pub fn load(root: &Path) -> Self {
        let text = std::fs::read_to_string(Self::path(root)).unwrap_or_default();
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Self {
        let mut progress = Self::default();
        for line in text.lines() {
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["done", name] => {
                    progress.done.insert((*name).to_owned());
                }
                ["hints", name, count] => {
                    if let Ok(count) = count.parse() {
                        progress.hints.insert((*name).to_owned(), count);
                    }
                }
                _ => {}
            }
        }
        progress
    }

    pub fn render(&self) -> String {
        let done = self.done.iter().map(|name| format!("done {name}\n"));
        let hints = self.hints.iter().map(|(name, count)| format!("hints {name} {count}\n"));
        done.chain(hints).collect()
    }

    pub fn save(&self, root: &Path) -> anyhow::Result<()> {
        let path = Self::path(root);
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
        std::fs::write(&path, self.render()).with_context(|| format!("writing {}", path.display()))
    }
}

/// `[#####.....] 2/4`, forty columns at most.
pub fn progress_bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(0);
    format!("[{}{}] {done}/{total}", "#".repeat(filled), ".".repeat(WIDTH - filled))
}

/// Checks every exercise both ways: as shipped, each one's checks build and fail; with every
/// reference solution applied, in a scratch copy of the workspace, they all pass. Returns the
/// problems found, one line each (none means every exercise holds both ways).
pub fn verify(root: &Path) -> anyhow::Result<Vec<String>> {
    let exercises = discover(root)?;
    let packages: Vec<&str> = exercises
        .iter()
        .map(|exercise| exercise.package.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let target = target_dir(root);

    println!(
        "exercises: {} in {} crates, first as shipped",
        exercises.len(),
        packages.len()
    );
    let shipped = run_checks(root, &target, &packages, None)?;
    if let Some(error) = &shipped.build_error {
        bail!("the exercises do not build as shipped:\n{error}");
    }

    let scratch = target.join("exercise-scratch");
    println!("exercises: then with their solutions, in {}", scratch.display());
    // Removed when this function returns, however it returns (see `harness::scratch`).
    let _copy = harness::scratch::Scratch::copy(root, &scratch)?;
    for exercise in &exercises {
        let relative = exercise.file();
        let relative = relative.strip_prefix(root).expect("inside the workspace");
        std::fs::copy(exercise.solution(), scratch.join(relative))
            .with_context(|| format!("applying the solution of {}", exercise.name))?;
    }
    let mut renamed = Vec::new();
    for package in &packages {
        let dir = exercises
            .iter()
            .find(|exercise| exercise.package == *package)
            .map(|exercise| scratch.join(exercise.dir.strip_prefix(root).expect("inside the workspace")))
            .expect("every package has an exercise");
        renamed.push(harness::scratch::rename_package(&dir, "solved")?);
    }
    let renamed: Vec<&str> = renamed.iter().map(String::as_str).collect();
    let solved = run_checks(&scratch, &target, &renamed, None)?;
    if let Some(error) = &solved.build_error {
        bail!("the exercises do not build with their solutions:\n{error}");
    }
    let names: Vec<&str> = exercises.iter().map(|exercise| exercise.name.as_str()).collect();
    Ok(judge(&names, &shipped, &solved))
}

/// What is wrong with each exercise, given its checks' results as shipped and with its solution:
/// one line per problem, naming the exercise (none means every exercise holds both ways).
pub fn judge(exercises: &[&str], shipped: &Checked, solved: &Checked) -> Vec<String> {
    let mut problems = Vec::new();
    for &exercise in exercises {
        if shipped.of(exercise).next().is_none() {
            problems.push(format!("{exercise}: no checks ran"));
        } else if shipped.passed(exercise) {
            problems.push(format!(
                "{exercise}: passes as shipped, so it asks nothing of the learner"
            ));
        }
        for test in solved.of(exercise).filter(|test| !test.passed) {
            problems.push(format!(
                "{exercise}: its solution fails {}: {}",
                test.test, test.message
            ));
        }
        if solved.of(exercise).next().is_none() {
            problems.push(format!("{exercise}: no checks ran with the solution"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextest_messages_become_results_per_exercise_with_the_assertions_words() {
        let stdout = concat!(
            r#"{"type":"suite","event":"started","test_count":2}"#,
            "\n",
            r#"{"type":"test","event":"started","name":"ch03-exercises::it$register_atomically::a_registration_saves_both"}"#,
            "\n",
            r#"{"type":"test","event":"ok","name":"ch03-exercises::it$register_atomically::a_registration_saves_both","exec_time":0.1}"#,
            "\n",
            r#"{"type":"test","event":"failed","name":"ch03-exercises::it$audit_survives::the_attempt_stays","stdout":"\nthread 'x' panicked at tests/it/a.rs:1:1:\nassertion failed: the attempt was rolled back\n  left: 0\nstack backtrace:\n  0: x\n"}"#,
            "\n",
            "not json\n",
        );
        let results = parse_messages(stdout);
        assert_eq!(
            results,
            [
                TestResult {
                    exercise: "register_atomically".into(),
                    test: "a_registration_saves_both".into(),
                    passed: true,
                    message: String::new(),
                },
                TestResult {
                    exercise: "audit_survives".into(),
                    test: "the_attempt_stays".into(),
                    passed: false,
                    message: "assertion failed: the attempt was rolled back\n  left: 0".into(),
                },
            ]
        );
        let checked = Checked {
            tests: results,
            build_error: None,
        };
        assert!(checked.passed("register_atomically"));
        assert!(!checked.passed("audit_survives"));
        assert!(!checked.passed("unknown"), "an exercise without tests has not passed");
    }

    #[test]
    fn an_exercise_that_passes_as_shipped_or_fails_with_its_solution_or_has_no_checks_is_named() {
        let result = |exercise: &str, test: &str, passed: bool| TestResult {
            exercise: exercise.into(),
            test: test.into(),
            passed,
            message: if passed {
                String::new()
            } else {
                "assertion failed".into()
            },
        };
        let shipped = Checked {
            tests: vec![
                result("holds", "a", false),
                result("holds", "b", true),
                result("asks_nothing", "a", true),
                result("unsolvable", "a", false),
            ],
            build_error: None,
        };
        let solved = Checked {
            tests: vec![
                result("holds", "a", true),
                result("holds", "b", true),
                result("asks_nothing", "a", true),
                result("unsolvable", "a", false),
            ],
            build_error: None,
        };
        let problems = judge(&["holds", "asks_nothing", "unsolvable", "unchecked"], &shipped, &solved);
        assert_eq!(
            problems,
            [
                "asks_nothing: passes as shipped, so it asks nothing of the learner",
                "unsolvable: its solution fails a: assertion failed",
                "unchecked: no checks ran",
                "unchecked: no checks ran with the solution",
            ]
        );
    }

    #[test]
    fn progress_survives_a_round_trip_and_ignores_what_it_does_not_know() {
        let mut progress = Progress::default();
        progress.done.insert("register_atomically".into());
        progress.hints.insert("audit_survives".into(), 2);
        assert_eq!(Progress::parse(&progress.render()), progress);
        assert_eq!(Progress::parse("rubbish\nhints x notanumber\n"), Progress::default());
    }

    #[test]
    fn names_read_as_sentences_and_the_bar_fills_in_proportion() {
        assert_eq!(
            plain("a_session_killed_leaves_no_user"),
            "a session killed leaves no user"
        );
        assert_eq!(progress_bar(0, 4), format!("[{}] 0/4", ".".repeat(30)));
        assert_eq!(
            progress_bar(2, 4),
            format!("[{}{}] 2/4", "#".repeat(15), ".".repeat(15))
        );
        assert_eq!(progress_bar(0, 0), format!("[{}] 0/0", ".".repeat(30)));
    }

    #[test]
    fn the_workspace_exercises_are_found_in_order_with_their_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let exercises = discover(root).unwrap();
        let names: Vec<&str> = exercises.iter().map(|exercise| exercise.name.as_str()).collect();
        assert!(
            names.starts_with(&[
                "error_answers",
                "lookup_through_the_service",
                "webhook_provider",
                "welcome_without_waiting",
                "keyset_pages",
                "email_any_case",
                "channels_as_text",
                "no_lost_update",
                "register_atomically",
                "audit_survives",
                "optional_gift_wrap",
                "purchase_deadline",
                "cancel_order",
                "review_mapping",
                "restock_retries",
                "stale_form",
            ]),
            "chapters in order, each chapter's in its lib.rs order: {names:?}"
        );
        for exercise in &exercises {
            for file in [exercise.file(), exercise.solution(), exercise.statement()] {
                assert!(file.is_file(), "{} has no {}", exercise.name, file.display());
            }
            assert!(!exercise.hints().unwrap().is_empty(), "{} has no hints", exercise.name);
            let check = exercise.dir.join("tests/it").join(format!("{}.rs", exercise.name));
            assert!(check.is_file(), "{} has no checks", exercise.name);
        }
    }
}
