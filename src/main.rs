//! `workbook`: run the workbook's narrated tours, check the services, read the benchmarks.
//!
//! `workbook tour` runs every tour on embedded stand-ins (SQLite in memory, an in-process Kafka),
//! so it works on any machine; `workbook tour --real` runs them against the services the tests use.

mod bench_chart;
mod bench_report;
mod book_check;
mod chapters;
mod coverage_report;
mod doctor;
mod exercises;
mod kafka;
mod learn;
mod test_status;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Parser, Subcommand};
use harness::narrator::Narrator;
use harness::tour::Services;

use crate::chapters::CHAPTERS;

#[derive(Parser)]
#[command(
    name = "workbook",
    version,
    about = "Backend patterns, run against real services and measured"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The chapters, what each teaches, and how its tests did in the last `just test`.
    List,
    /// For each service: where it would come from, whether it answers, its version.
    Doctor,
    /// Runs the narrated tours: every one, or one chapter's (by number or name).
    Tour {
        chapter: Option<String>,
        /// Use the provisioned services instead of embedded stand-ins.
        #[arg(long)]
        real: bool,
    },
    /// A look at the Kafka broker the tests and tours use: its topics, or one topic's messages.
    Kafka {
        #[command(subcommand)]
        look: KafkaLook,
    },
    /// Coverage results.
    Coverage {
        /// Writes docs/src/coverage.md from target/coverage.json (`just coverage`), and fails if a
        /// chapter library or the harness is below the floor.
        #[arg(long)]
        report: bool,
    },
    /// Where the test databases of the last `just test` came from: the pool, or made while a
    /// test waited (read from target/handouts.log).
    Handouts,
    /// The exercises, per chapter, with what you have done.
    #[command(visible_alias = "ex")]
    Exercises {
        /// Checks every exercise both ways instead (what `just test` does): as shipped its checks
        /// fail, with its reference solution they pass.
        #[arg(long)]
        verify: bool,
    },
    /// Shows the first exercise you have not done yet, and checks it.
    Next,
    /// Checks an exercise on the real services.
    Check { name: String },
    /// The next hint for an exercise.
    Hint { name: String },
    /// Puts an exercise's file back as it was shipped.
    Reset { name: String },
    /// The reference solution of an exercise you have done.
    Solution {
        name: String,
        /// Show it before the exercise passes.
        #[arg(long)]
        give_up: bool,
    },
    /// Checks the current exercise each time its file is saved, and moves on when it passes.
    Watch,
    /// The built book (docs/book, `just docs`).
    Book {
        /// Opens every page in headless Chromium and fails on a JavaScript error, a diagram
        /// that did not render, a broken link or a broken image (what `just test` does).
        #[arg(long)]
        check: bool,
    },
    /// Benchmark results.
    Bench {
        /// Writes docs/src/benchmarks.md from criterion's latest results.
        #[arg(long)]
        report: bool,
    },
}

#[derive(Subcommand)]
enum KafkaLook {
    /// Each topic, its partitions, and how many messages they hold.
    Topics,
    /// A topic's messages from the start: partition, offset, key, headers, body.
    Show {
        topic: String,
        /// Show at most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("workbook: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    // The tours provoke failures on purpose (a refused connection, a failed notification, a
    // constraint that stops a save) and narrate each one in their own voice; the adapters' logs
    // of the same failures would only say it again, in the middle of the story. So logs are off
    // unless asked for: `WORKBOOK_LOG=warn` (or any filter) shows them. Colour goes only to a
    // terminal, and never when `NO_COLOR` is set.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("WORKBOOK_LOG").unwrap_or_else(|_| "off".into()))
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::List => list(),
        Command::Doctor => {
            let missing = doctor::run().await;
            if missing > 0 {
                bail!("{missing} service(s) not available: see above");
            }
            Ok(())
        }
        Command::Tour { chapter, real } => {
            tour(
                chapter.as_deref(),
                if real { Services::Real } else { Services::Embedded },
            )
            .await
        }
        Command::Kafka { look } => match look {
            KafkaLook::Topics => kafka::topics().await,
            KafkaLook::Show { topic, limit } => kafka::show(topic, limit).await,
        },
        Command::Coverage { report } => coverage(report),
        Command::Handouts => handouts(),
        Command::Exercises { verify } => {
            if verify {
                verify_exercises()
            } else {
                learn::list(&workspace_root())
            }
        }
        Command::Next => learn::next(&workspace_root()),
        Command::Check { name } => learn::check(&workspace_root(), &name),
        Command::Hint { name } => learn::hint(&workspace_root(), &name),
        Command::Reset { name } => learn::reset(&workspace_root(), &name),
        Command::Solution { name, give_up } => learn::solution(&workspace_root(), &name, give_up),
        Command::Watch => learn::watch(&workspace_root()),
        Command::Bench { report } => bench(report),
        Command::Book { check } => book(check),
    }
}

/// The workspace the commands work on: this checkout, or `WORKBOOK_ROOT` (a scratch copy, as the
/// runner's own end-to-end test uses).
fn workspace_root() -> PathBuf {
    std::env::var_os("WORKBOOK_ROOT").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn list() -> anyhow::Result<()> {
    let report = workspace_root().join("target/nextest/default/junit.xml");
    let results = test_status::read(&report);
    for chapter in CHAPTERS {
        let tests = match (chapter.status, results.get(chapter.package)) {
            (status, _) if status.is_planned() => "planned".to_owned(),
            (_, None) => "tests: not run yet (just test)".to_owned(),
            (_, Some(counts)) if counts.failed == 0 => format!("tests: {} passed", counts.tests),
            (_, Some(counts)) => format!("tests: {} of {} FAILED", counts.failed, counts.tests),
        };
        let tests = if chapter.status.in_progress() {
            format!("{tests} (in progress)")
        } else {
            tests
        };
        println!("{:<24} {:<74} {tests}", chapter.id(), chapter.summary);
    }
    Ok(())
}

async fn tour(which: Option<&str>, services: Services) -> anyhow::Result<()> {
    let chosen: Vec<chapters::Tour> = match which {
        None => CHAPTERS.iter().filter_map(|chapter| chapter.status.tour()).collect(),
        Some(name) => match chapters::find(name) {
            Some(chapter) if let Some(tour) = chapter.status.tour() => vec![tour],
            Some(chapter) => bail!(
                "chapter {} is not written yet; `workbook list` shows what is",
                chapter.id()
            ),
            None => {
                let known: Vec<String> = CHAPTERS.iter().map(chapters::Chapter::id).collect();
                bail!("no chapter called {name:?}; the chapters are: {}", known.join(", "))
            }
        },
    };
    let mut narrator = Narrator::to_stdout();
    for tour in chosen {
        tour(services, &mut narrator).await?;
    }
    Ok(())
}

fn coverage(report: bool) -> anyhow::Result<()> {
    if !report {
        bail!("`just coverage` measures; `workbook coverage --report` writes its table");
    }
    let root = workspace_root();
    let json_path = root.join("target/coverage.json");
    let json = std::fs::read_to_string(&json_path)
        .map_err(|error| anyhow::anyhow!("reading {}: {error}; run `just coverage` first", json_path.display()))?;
    let crates = coverage_report::per_crate(&root, &json)?;
    let path = root.join("docs/src/coverage.md");
    std::fs::write(&path, coverage_report::render(&crates, "just coverage"))?;
    println!("wrote {} ({} crates)", path.display(), crates.len());
    let below = coverage_report::below_floor(&crates);
    if !below.is_empty() {
        bail!(
            "below the floor of {}% of lines: {}",
            coverage_report::FLOOR,
            below.join(", ")
        );
    }
    Ok(())
}

fn verify_exercises() -> anyhow::Result<()> {
    let problems = exercises::verify(&workspace_root())?;
    if !problems.is_empty() {
        bail!("exercises that do not hold both ways:\n  {}", problems.join("\n  "));
    }
    println!("every exercise fails its checks as shipped and passes them with its solution");
    Ok(())
}

fn handouts() -> anyhow::Result<()> {
    let path = workspace_root().join("target/handouts.log");
    let log = std::fs::read_to_string(&path)
        .map_err(|error| anyhow::anyhow!("reading {}: {error}; `just test` writes it", path.display()))?;
    print!("{}", harness::pool::HandoutCounts::from_log(&log));
    Ok(())
}

fn book(check: bool) -> anyhow::Result<()> {
    if !check {
        bail!("`just docs` builds the book; `workbook book --check` checks it in a browser");
    }
    let book = workspace_root().join("docs/book");
    let problems = book_check::check(&book)?;
    if problems.is_empty() {
        println!(
            "book: every page loads, draws its diagrams and links somewhere ({})",
            book.display()
        );
        return Ok(());
    }
    for problem in &problems {
        eprintln!("book: {problem}");
    }
    bail!("the book has {} problem(s)", problems.len())
}

fn bench(report: bool) -> anyhow::Result<()> {
    if !report {
        bail!("`just bench` runs the benchmarks; `workbook bench --report` writes their table");
    }
    let root = workspace_root();
    let found = bench_report::collect(&root.join("target/criterion"))?;
    let (results, left_out) = bench_report::one_run(found, &bench_report::bench_sources(&root)?);
    let path = root.join("docs/src/benchmarks.md");
    let earlier = bench_report::earlier_sections(&std::fs::read_to_string(&path).unwrap_or_default());
    let page = bench_report::render(&results, &left_out, &earlier, "just bench && workbook bench --report");
    std::fs::write(&path, page)?;
    println!("wrote {} ({} groups)", path.display(), results.len());
    // A chart for each group measured now, from the same results as its table.
    let charts = root.join("docs/src/charts");
    std::fs::create_dir_all(&charts)?;
    for (group, functions) in &results {
        let chart = bench_chart::svg(group, functions, &format!("just bench {group}"));
        std::fs::write(charts.join(bench_chart::file_name(group)), chart)?;
    }
    println!("wrote {} charts in {}", results.len(), charts.display());
    for line in &left_out {
        println!("left out {line}");
    }
    Ok(())
}
