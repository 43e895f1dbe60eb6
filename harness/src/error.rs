//! The harness's errors: each says what failed, with which input, and what to do about it.

use crate::ServiceKind;

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
        kind: ServiceKind,
        var: &'static str,
        example: &'static str,
        /// One line per way that was tried, and why it did not work.
        attempts: String,
    },

    #[error("{kind} at {url} did not become ready within {waited:?}: {last_error}")]
    NotReady {
        kind: ServiceKind,
        url: String,
        waited: std::time::Duration,
        last_error: String,
    },

    #[error("{what}: {source}")]
    Sql {
        what: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("{what}: {source}")]
    Migrate {
        what: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    #[error("{what}: {source}")]
    Redis {
        what: String,
        #[source]
        source: ::redis::RedisError,
    },

    #[error("{what}: {source}")]
    Kafka {
        what: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

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
