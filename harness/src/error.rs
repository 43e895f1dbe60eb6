//! The harness's errors: each says what failed, with which input, and what to do about it.

use crate::ServiceKind;

/// Why the harness could not give a test what it asked for.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No way to reach the service worked. The message is meant to be read in a failed test's
    /// output: it names the environment variable and Docker, the two ways to provide it.
    #[error(
        "{kind} is not available to this test.\n\
         {attempts}\n\
         Provide it in one of two ways:\n  \
         - point {var} at a running server, for example\n      \
         export {var}={example}\n    \
         (`scripts/local-services up` starts the services on this machine and writes the exports to\n    \
         target/services.env; `just test` does both for you);\n  \
         - or start a Docker engine: the harness then runs a container for {kind} itself."
    )]
    Unavailable {
        /// The service that was asked for.
        kind: ServiceKind,
        /// The environment variable that points the harness at a running server.
        var: &'static str,
        /// An example value of `var`.
        example: &'static str,
        /// One line per way that was tried, and why it did not work.
        attempts: String,
    },

    /// The service was reached, or started, but did not answer in time.
    #[error("{kind} at {url} did not become ready within {waited:?}: {last_error}")]
    NotReady {
        /// The service that was waited for.
        kind: ServiceKind,
        /// Where it was waited for, with any password masked.
        url: String,
        /// How long the harness waited.
        waited: std::time::Duration,
        /// The error of the last attempt.
        last_error: String,
    },

    /// A statement or connection failed.
    #[error("{what}: {source}")]
    Sql {
        /// What the harness was doing.
        what: String,
        /// The client library's error.
        #[source]
        source: sqlx::Error,
    },

    /// Migrations did not apply.
    #[error("{what}: {source}")]
    Migrate {
        /// What the harness was doing.
        what: String,
        /// The client library's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// A Redis command or connection failed.
    #[error("{what}: {source}")]
    Redis {
        /// What the harness was doing.
        what: String,
        /// The client library's error.
        #[source]
        source: ::redis::RedisError,
    },

    /// A Kafka client or admin request failed.
    #[error("{what}: {source}")]
    Kafka {
        /// What the harness was doing.
        what: String,
        /// The client library's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },

    /// A process, file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What the harness was doing.
        what: String,
        /// The client library's error.
        #[source]
        source: std::io::Error,
    },

    /// Anything else, said in full.
    #[error("{0}")]
    Other(String),
}

/// Adds "what we were doing" to an error from a client library.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, HarnessError>;
}

// A macro on purpose: five one-line impls that differ only in the error type and variant, and
// teach nothing. A generic impl cannot pick the variant; writing them out would be noise.
macro_rules! context_for {
    ($source:ty, $variant:ident) => {
        impl<T> Context<T> for Result<T, $source> {
            fn context(self, what: impl FnOnce() -> String) -> Result<T, HarnessError> {
                self.map_err(|source| HarnessError::$variant { what: what(), source })
            }
        }
    };
}

context_for!(sqlx::Error, Sql);
context_for!(sqlx::migrate::MigrateError, Migrate);
context_for!(::redis::RedisError, Redis);
context_for!(rdkafka::error::KafkaError, Kafka);
context_for!(std::io::Error, Io);
