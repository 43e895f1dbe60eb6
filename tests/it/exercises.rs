//! The exercise runner, driven as a learner drives it, in a scratch copy of the workspace (the
//! learner's files change there, never here): a check that fails, a hint, the learner's file
//! replaced by the solution, a check that passes, the next exercise; and `watch` noticing a save
//! by itself and moving on.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::scratch::Scratch;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const EXERCISES: &str = "chapters/03-transaction-manager/exercises";

/// A scratch workspace of this test's own (removed when dropped), building into this checkout's
/// `target/`, with the exercise crate renamed so that its build is its own (see
/// `harness::scratch`).
fn scratch(name: &str) -> Scratch {
    let copy = Scratch::copy(
        Path::new(ROOT),
        &Path::new(ROOT).join("target/runner-scratch").join(name),
    )
    .expect("a scratch copy of the workspace");
    let dir = copy.path();
    harness::scratch::rename_package(&dir.join(EXERCISES), &name.replace('_', "-")).expect("a renamed package");
    // A clone of its own, as a learner's checkout is: `workbook reset` restores from git.
    for git in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=learner",
            "-c",
            "user.email=learner@example.com",
            "commit",
            "-qm",
            "as shipped",
        ],
    ] {
        let done = Command::new("git")
            .current_dir(dir)
            .args(git)
            .status()
            .expect("git runs");
        assert!(done.success(), "git {git:?} in {}", dir.display());
    }
    // A learner who has done chapters 01 and 02's exercises (all of them): the walk starts at
    // chapter 03's.
    let done: String = ["chapters/01-layered-service", "chapters/02-repository"]
        .iter()
        .flat_map(|chapter| {
            let lib = std::fs::read_to_string(dir.join(chapter).join("exercises/src/lib.rs")).unwrap();
            lib.lines()
                .filter_map(|line| line.strip_prefix("pub mod ")?.strip_suffix(';'))
                .map(|name| format!("done {name}\n"))
                .collect::<Vec<_>>()
        })
        .collect();
    std::fs::create_dir_all(dir.join(".workbook")).unwrap();
    std::fs::write(dir.join(".workbook/progress"), done).unwrap();
    copy
}

/// Where this test run builds: the scratch's checks reuse it. Under `just coverage` that is
/// cargo-llvm-cov's own target, whose builds are instrumented like the checks' would be.
fn target_dir() -> PathBuf {
    ["CARGO_LLVM_COV_TARGET_DIR", "CARGO_TARGET_DIR"]
        .iter()
        .find_map(std::env::var_os)
        .map_or_else(|| Path::new(ROOT).join("target"), PathBuf::from)
}

fn workbook(root: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_workbook"));
    command
        .env("WORKBOOK_ROOT", root)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("NO_COLOR", "1");
    command
}

fn run(root: &Path, args: &[&str]) -> (Output, String) {
    let output = workbook(root).args(args).output().expect("the workbook binary runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, said)
}

/// What the learner does: writes the reference solution over their file.
fn solve(root: &Path, exercise: &str) {
    let dir = root.join(EXERCISES);
    std::fs::copy(
        dir.join("solutions").join(format!("{exercise}.rs")),
        dir.join("src").join(format!("{exercise}.rs")),
    )
    .expect("the solution over the learner's file");
}

#[test]
fn a_learner_fails_takes_a_hint_solves_and_moves_on() {
    let copy = scratch("one_exercise");
    let root = copy.path();

    let (_, said) = run(root, &["next"]);
    assert!(said.contains("exercise register_atomically (chapter 03)"), "{said}");
    assert!(
        said.contains("FAIL a session killed before the message leaves no user behind"),
        "{said}"
    );
    assert!(
        said.contains("a user was saved without their message"),
        "the assertion's words: {said}"
    );
    assert!(said.contains("workbook hint register_atomically"), "{said}");

    let (_, said) = run(root, &["solution", "register_atomically"]);
    assert!(said.contains("not done yet"), "no solution before it passes: {said}");

    let (output, said) = run(root, &["hint", "register_atomically"]);
    assert!(output.status.success() && said.contains("hint 1 of 2"), "{said}");
    let (_, said) = run(root, &["hint", "register_atomically"]);
    assert!(said.contains("hint 2 of 2"), "each call shows one more: {said}");

    solve(root, "register_atomically");
    let (output, said) = run(root, &["check", "register_atomically"]);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("register_atomically holds."), "{said}");

    let (_, said) = run(root, &["exercises"]);
    assert!(said.contains("done  register_atomically"), "{said}");
    assert!(said.contains("next: audit_survives"), "{said}");
    let (output, said) = run(root, &["solution", "register_atomically"]);
    assert!(output.status.success() && said.contains("tm.run("), "{said}");

    let (_, said) = run(root, &["next"]);
    assert!(said.contains("exercise audit_survives"), "{said}");

    let (output, said) = run(root, &["reset", "register_atomically"]);
    assert!(output.status.success(), "{said}");
    let shipped = std::fs::read_to_string(Path::new(ROOT).join(EXERCISES).join("src/register_atomically.rs")).unwrap();
    let reset = std::fs::read_to_string(root.join(EXERCISES).join("src/register_atomically.rs")).unwrap();
    assert_eq!(reset, shipped, "reset restores the file as shipped");
}

/// The lines a running child has printed so far.
struct Printed {
    lines: Arc<Mutex<String>>,
}

impl Printed {
    fn of(child: &mut Child) -> Self {
        let lines = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("piped");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Self { lines }
    }

    fn wait_for(&self, text: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            let all = self.lines.lock().unwrap().clone();
            if all.contains(text) {
                return all;
            }
            assert!(started.elapsed() < limit, "no {text:?} after {limit:?}:\n{all}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn watch_checks_again_when_the_file_is_saved_and_moves_on_when_it_passes() {
    let copy = scratch("watch");
    let root = copy.path();
    // The first exercise is done already; the watch starts at the second.
    solve(root, "register_atomically");
    let (output, said) = run(root, &["check", "register_atomically"]);
    assert!(output.status.success(), "{said}");

    let mut watching = workbook(root)
        .arg("watch")
        .stdout(Stdio::piped())
        .spawn()
        .expect("watch starts");
    let printed = Printed::of(&mut watching);
    printed.wait_for(
        "watching chapters/03-transaction-manager/exercises/src/audit_survives.rs",
        Duration::from_secs(300),
    );

    solve(root, "audit_survives");
    let said = printed.wait_for("exercise optional_gift_wrap", Duration::from_secs(300));
    let _ = watching.kill();
    let _ = watching.wait();
    assert!(said.contains("audit_survives holds."), "{said}");
}
