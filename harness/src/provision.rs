//! Where each service comes from, decided once per test process.
//!
//! For each [`ServiceKind`] the harness tries, in order:
//! 1. the environment variable (`WORKBOOK_POSTGRES_URL`, ...). When it is set, it is the answer:
//!    if that server does not answer, the test fails. Falling back to Docker would hide a typo.
//! 2. a container started through testcontainers, when a Docker engine answers;
//! 3. otherwise, [`HarnessError::Unavailable`], whose message names both ways.
//!
//! Readiness is checked at the protocol level (`SELECT 1`, `PING`, Kafka metadata) with a bounded
//! wait, so a test never starts against a server that accepts TCP but cannot answer yet.

use std::fmt;
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::{HarnessError, ServiceKind, containers, probe};

/// How long a server named by an environment variable gets to answer. It is expected to be up
/// already (`scripts/local-services up` waits for it), so this only covers a slow first answer.
/// `WORKBOOK_READY_SECS` changes it.
const ENV_READY_LIMIT: Duration = Duration::from_secs(10);

fn env_ready_limit() -> Duration {
    std::env::var("WORKBOOK_READY_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .map_or(ENV_READY_LIMIT, Duration::from_secs_f64)
}

/// A service that answered: its address and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Which service this is.
    pub kind: ServiceKind,
    /// A connection URL (`postgres://`, `mysql://`, `redis://`) or, for Kafka, a bootstrap list.
    pub url: String,
    /// Where the harness found it.
    pub origin: Origin,
}

/// Where an [`Endpoint`] came from, so that a test's output says what it ran against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// From the named environment variable.
    Env(&'static str),
    /// A container started (or reused) through testcontainers.
    Container {
        /// The image, with its tag.
        image: String,
        /// The container's name.
        name: String,
    },
    /// A process the harness started itself, such as a dedicated tansu broker.
    Process {
        /// The program that was started.
        program: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(var) => write!(f, "${var}"),
            Origin::Container { image, name } => write!(f, "container {name} ({image})"),
            Origin::Process { program } => write!(f, "process {program}"),
        }
    }
}

/// One cell per kind: the first test to ask does the work, the others wait for its answer.
/// A failure is kept too, as its text: every later test fails at once with the same message
/// instead of waiting out the same timeout again.
static RESOLVED: [OnceCell<Result<Endpoint, String>>; 4] = [const { OnceCell::const_new() }; 4];

/// The endpoint for `kind`, resolved once per process. See the module documentation for the order.
pub async fn endpoint(kind: ServiceKind) -> Result<Endpoint, HarnessError> {
    let index = ServiceKind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is in ALL");
    RESOLVED[index]
        .get_or_init(|| resolve(kind))
        .await
        .clone()
        .map_err(|attempts| unavailable(kind, attempts))
}

fn unavailable(kind: ServiceKind, attempts: String) -> HarnessError {
    HarnessError::Unavailable {
        kind,
        var: kind.env_var(),
        example: kind.env_example(),
        attempts,
    }
}

// ANCHOR: resolve
/// Tries each way in turn; on failure returns one line per way tried.
async fn resolve(kind: ServiceKind) -> Result<Endpoint, String> {
    let var = kind.env_var();
    if let Some(url) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
        return match probe::wait_ready(kind, &url, env_ready_limit()).await {
            Ok(_version) => Ok(Endpoint {
                kind,
                url,
                origin: Origin::Env(var),
            }),
            Err(error) => Err(format!(
                "  - {var}={} is set, but that server does not answer: {error}",
                crate::redact::masked(&url)
            )),
        };
    }
    containers::endpoint(kind, format!("  - {var} is not set.")).await
}
// ANCHOR_END: resolve

/// What [`endpoint`] would do for `kind`, without starting anything: for `workbook doctor`.
pub fn planned_source(kind: ServiceKind) -> String {
    match std::env::var(kind.env_var()) {
        Ok(url) if !url.trim().is_empty() => format!("${} = {}", kind.env_var(), crate::redact::masked(&url)),
        _ => format!("${} not set: a Docker container, if an engine answers", kind.env_var()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_says_where_a_service_came_from_in_words() {
        assert_eq!(
            Origin::Env("WORKBOOK_POSTGRES_URL").to_string(),
            "$WORKBOOK_POSTGRES_URL"
        );
        let container = Origin::Container {
            image: "postgres:15".into(),
            name: "workbook-postgres".into(),
        };
        assert_eq!(container.to_string(), "container workbook-postgres (postgres:15)");
        let process = Origin::Process {
            program: "/usr/local/bin/tansu".into(),
        };
        assert_eq!(process.to_string(), "process /usr/local/bin/tansu");
    }
}
