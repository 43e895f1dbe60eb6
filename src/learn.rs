//! The learner's commands: `exercises`, `next`, `check`, `hint`, `reset`, `solution`, `watch`.
//!
//! Each prints for an 80-column terminal, in colour only when stdout is one (and `NO_COLOR` is
//! not set). A check runs the exercise's tests on the real services, so the services must be up
//! (`scripts/local-services up`, or the `WORKBOOK_*` variables).

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};

use crate::exercises::{self, Exercise, Progress};

struct Paint {
    on: bool,
}

impl Paint {
    fn new() -> Self {
        Self {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn green(&self, text: &str) -> String {
        self.colour("32", text)
    }

    fn red(&self, text: &str) -> String {
        self.colour("31", text)
    }

    fn bold(&self, text: &str) -> String {
        self.colour("1", text)
    }

    fn colour(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// `workbook exercises`: every exercise, per chapter, with what is done.
pub fn list(root: &Path) -> anyhow::Result<()> {
    let all = exercises::discover(root)?;
    let progress = Progress::load(root);
    let paint = Paint::new();
    let mut chapter = String::new();
    for exercise in &all {
        if exercise.chapter != chapter {
            chapter = exercise.chapter.clone();
            println!("{}", paint.bold(&format!("chapter {chapter}")));
        }
        let mark = if progress.done.contains(&exercise.name) {
            paint.green("done")
        } else {
            "    ".to_owned()
        };
        println!("  {mark}  {}", exercise.name);
    }
    let done = all
        .iter()
        .filter(|exercise| progress.done.contains(&exercise.name))
        .count();
    println!("\n{}", exercises::progress_bar(done, all.len()));
    if let Some(next) = all.iter().find(|exercise| !progress.done.contains(&exercise.name)) {
        println!("next: {} (`workbook next`)", next.name);
    }
    Ok(())
}

/// `workbook next`: the first exercise not done yet: its statement, then its check.
pub fn next(root: &Path) -> anyhow::Result<()> {
    let all = exercises::discover(root)?;
    let progress = Progress::load(root);
    let Some(exercise) = all.iter().find(|exercise| !progress.done.contains(&exercise.name)) else {
        println!(
            "every exercise is done: {}",
            exercises::progress_bar(all.len(), all.len())
        );
        return Ok(());
    };
    show_statement(root, exercise)?;
    check_and_report(root, &all, exercise).map(|_| ())
}

/// `workbook check NAME`.
pub fn check(root: &Path, name: &str) -> anyhow::Result<()> {
    let all = exercises::discover(root)?;
    let exercise = exercises::find(&all, name)?;
    if !check_and_report(root, &all, exercise)? {
        bail!("{name} does not pass yet");
    }
    Ok(())
}

fn show_statement(root: &Path, exercise: &Exercise) -> anyhow::Result<()> {
    let paint = Paint::new();
    let statement = std::fs::read_to_string(exercise.statement())?;
    println!(
        "{}\n",
        paint.bold(&format!(
            "exercise {} (chapter {})",
            exercise.name,
            exercise.chapter_number()
        ))
    );
    println!("{}\n", statement.trim());
    println!("your file: {}\n", exercise.shown(root, &exercise.file()));
    Ok(())
}

/// Runs the exercise's checks and says what they found; true when they all passed, and then the
/// exercise is marked done.
fn check_and_report(root: &Path, all: &[Exercise], exercise: &Exercise) -> anyhow::Result<bool> {
    let paint = Paint::new();
    println!("checking {} on the real services...", exercise.name);
    let checked = exercises::run_checks(
        root,
        &exercises::target_dir(root),
        &[&exercise.package],
        Some(&exercise.name),
    )?;
    if let Some(error) = checked.build_error {
        println!(
            "{}\n{error}",
            paint.red("the checks did not run (a build error?); cargo says:")
        );
        return Ok(false);
    }
    for test in checked.of(&exercise.name) {
        if test.passed {
            println!("  {} {}", paint.green("pass"), exercises::plain(&test.test));
        } else {
            println!("  {} {}", paint.red("FAIL"), exercises::plain(&test.test));
            for line in test.message.lines() {
                println!("       {line}");
            }
        }
    }
    if !checked.passed(&exercise.name) {
        println!(
            "\nnot yet. `workbook hint {0}` gives a hint; `workbook check {0}` checks again.",
            exercise.name
        );
        return Ok(false);
    }
    let mut progress = Progress::load(root);
    progress.done.insert(exercise.name.clone());
    progress.save(root)?;
    let done = all
        .iter()
        .filter(|exercise| progress.done.contains(&exercise.name))
        .count();
    println!(
        "\n{} {}",
        paint.green(&format!("{} holds.", exercise.name)),
        exercises::progress_bar(done, all.len())
    );
    println!(
        "`workbook solution {}` shows the reference solution; `workbook next` goes on.",
        exercise.name
    );
    Ok(true)
}

/// `workbook hint NAME`: the next hint not shown yet (the last one again once all were).
pub fn hint(root: &Path, name: &str) -> anyhow::Result<()> {
    let all = exercises::discover(root)?;
    let exercise = exercises::find(&all, name)?;
    let hints = exercise.hints()?;
    let mut progress = Progress::load(root);
    let seen = progress.hints.get(name).copied().unwrap_or(0);
    let index = seen.min(hints.len().saturating_sub(1));
    let hint = hints.get(index).with_context(|| format!("{name} has no hints"))?;
    println!("hint {} of {} for {name}:\n\n{hint}", index + 1, hints.len());
    progress.hints.insert(name.to_owned(), (seen + 1).min(hints.len()));
    progress.save(root)
}

/// `workbook reset NAME`: the learner's file as it was shipped (from git).
pub fn reset(root: &Path, name: &str) -> anyhow::Result<()> {
    let all = exercises::discover(root)?;
    let exercise = exercises::find(&all, name)?;
    let file = exercise.shown(root, &exercise.file());
    let shipped = std::process::Command::new("git")
        .current_dir(root)
        .args(["show", &format!("HEAD:{file}")])
        .output()
        .context("running git")?;
    if !shipped.status.success() {
        bail!(
            "git does not have {file} as shipped: {}",
            String::from_utf8_lossy(&shipped.stderr).trim()
        );
    }
    std::fs::write(exercise.file(), shipped.stdout)?;
    let mut progress = Progress::load(root);
    progress.done.remove(name);
    progress.save(root)?;
    println!("{file} is back as it was shipped");
    Ok(())
}

/// `workbook solution NAME`: the reference solution, once the exercise passes (or on giving up).
pub fn solution(root: &Path, name: &str, give_up: bool) -> anyhow::Result<()> {
    let all = exercises::discover(root)?;
    let exercise = exercises::find(&all, name)?;
    if !give_up && !Progress::load(root).done.contains(name) {
        bail!("{name} is not done yet: the solution is shown once it passes, or with --give-up");
    }
    print!("{}", std::fs::read_to_string(exercise.solution())?);
    Ok(())
}

/// `workbook watch`: checks the current exercise whenever its file is saved, and moves on to the
/// next one when it passes. Stops when every exercise is done (or on Ctrl-C).
pub fn watch(root: &Path) -> anyhow::Result<()> {
    let all = exercises::discover(root)?;
    loop {
        let progress = Progress::load(root);
        let Some(exercise) = all.iter().find(|exercise| !progress.done.contains(&exercise.name)) else {
            println!("every exercise is done");
            return Ok(());
        };
        show_statement(root, exercise)?;
        let mut seen = modified(&exercise.file());
        if check_and_report(root, &all, exercise)? {
            continue;
        }
        println!("watching {} for changes...", exercise.shown(root, &exercise.file()));
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = modified(&exercise.file());
            if now != seen {
                seen = now;
                if check_and_report(root, &all, exercise)? {
                    break;
                }
                println!("watching {} for changes...", exercise.shown(root, &exercise.file()));
            }
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|meta| meta.modified()).ok()
}
