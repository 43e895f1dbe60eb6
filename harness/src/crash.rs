//! Crashing a program between two steps, to test what recovery finds afterwards.
//!
//! Chapter code marks the places where a crash matters with the `fail` crate's
//! `fail::fail_point!("relay::after_publish")`. The macro compiles to nothing unless the `fail`
//! crate's `failpoints` feature is on, which only the chapters' and the harness's dev-dependencies
//! turn on: the `workbook` binary has no live fail point.
//!
//! A crash must be real: no destructor runs, no transaction is rolled back politely, no buffer
//! is flushed. So the test that wants one runs a *child*: the same test binary, told to run one
//! test with one point armed. When the child reaches that point it aborts, as a process killed by
//! the kernel would end. The parent then inspects what was left behind and runs the recovery.
//!
//! ```no_run
//! use harness::crash::{ChildTest, arm_from_env};
//!
//! // Each of these is a `#[tokio::test]` in a test binary.
//!
//! // The scenario is an ordinary test: unarmed, it runs to the end and checks the happy path.
//! async fn relay_publishes_and_marks() -> anyhow::Result<()> {
//!     arm_from_env();
//!     // ... write, publish, pass `fail::fail_point!("relay::after_publish")`, mark ...
//!     Ok(())
//! }
//!
//! // The parent runs it again in a child, which dies at the armed point.
//! async fn relay_recovers_from_a_crash_between_publish_and_mark(url: &str) -> anyhow::Result<()> {
//!     let child = ChildTest::new("relay::relay_publishes_and_marks")
//!         .crash_at("relay::after_publish")
//!         .env("SOME_URL", url)
//!         .run()
//!         .await?;
//!     assert!(child.crashed_at("relay::after_publish"), "{child}");
//!     // ... inspect what was left behind, and recover ...
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use crate::HarnessError;
use crate::error::Context;

/// The environment variable that names the armed crash point in a child.
pub const CRASH_AT: &str = "WORKBOOK_CRASH_AT";

/// In a child started by [`ChildTest`], arms the crash point it was given: reaching it aborts the
/// process. Outside such a child it does nothing, so the same test also runs on its own.
pub fn arm_from_env() {
    let Ok(point) = std::env::var(CRASH_AT) else {
        return;
    };
    let announced = point.clone();
    fail::cfg_callback(point.clone(), move || {
        eprintln!("{}", crash_banner(&announced));
        std::process::abort();
    })
    .unwrap_or_else(|error| panic!("could not arm the crash point {point}: {error}"));
}

fn crash_banner(point: &str) -> String {
    format!("harness: crash point {point} reached, aborting")
}

/// One test of the current test binary, to be run in a child process.
pub struct ChildTest {
    test: String,
    crash_at: Option<String>,
    env: Vec<(String, String)>,
}

impl ChildTest {
    /// `test` is the test's full path inside the binary, such as `relay::relay_publishes_and_marks`.
    pub fn new(test: impl Into<String>) -> Self {
        Self {
            test: test.into(),
            crash_at: None,
            env: Vec::new(),
        }
    }

    /// Arms the named crash point in the child (see [`arm_from_env`]).
    pub fn crash_at(mut self, point: impl Into<String>) -> Self {
        self.crash_at = Some(point.into());
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs the child to its end and collects what it printed.
    pub async fn run(self) -> Result<ChildOutcome, HarnessError> {
        let binary = std::env::current_exe().context(|| "finding the test binary".into())?;
        let mut command = tokio::process::Command::new(&binary);
        // libtest's own arguments: exactly this test, output not captured so that the parent
        // sees what the child said before it died.
        command.args([self.test.as_str(), "--exact", "--nocapture", "--test-threads=1"]);
        command.env_remove(CRASH_AT);
        if let Some(point) = &self.crash_at {
            command.env(CRASH_AT, point);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command.stdin(Stdio::null()).kill_on_drop(true);
        let output = command
            .output()
            .await
            .context(|| format!("running {} {}", binary.display(), self.test))?;
        Ok(ChildOutcome {
            test: self.test,
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// How a child ended, and what it printed.
pub struct ChildOutcome {
    /// The test the child ran.
    pub test: String,
    /// How it exited: an abort at a crash point, a pass, or a failure.
    pub status: ExitStatus,
    /// What it wrote to stdout.
    pub stdout: String,
    /// What it wrote to stderr.
    pub stderr: String,
}

impl ChildOutcome {
    /// True when the child aborted at `point`, and nowhere else.
    pub fn crashed_at(&self, point: &str) -> bool {
        self.status.signal() == Some(libc_sigabrt()) && self.stderr.contains(&crash_banner(point))
    }

    /// Everything the child printed, for assertions on messages.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// SIGABRT is 6 on every platform this runs on (Linux, macOS).
const fn libc_sigabrt() -> i32 {
    6
}

impl fmt::Display for ChildOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "child test {} ended with {}", self.test, self.status)?;
        writeln!(f, "--- stdout\n{}", self.stdout)?;
        write!(f, "--- stderr\n{}", self.stderr)
    }
}
