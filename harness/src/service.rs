//! The four kinds of service a test can ask for, and the names a reader meets in messages.

use std::fmt;

/// A kind of real service that the harness provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
    /// Redis.
    Redis,
    /// A Kafka-compatible broker.
    Kafka,
}

impl ServiceKind {
    /// Every kind, in the order messages list them.
    pub const ALL: [ServiceKind; 4] = [Self::Postgres, Self::MySql, Self::Redis, Self::Kafka];

    /// The environment variable that points the harness at an existing service.
    pub fn env_var(self) -> &'static str {
        match self {
            Self::Postgres => "WORKBOOK_POSTGRES_URL",
            Self::MySql => "WORKBOOK_MYSQL_URL",
            Self::Redis => "WORKBOOK_REDIS_URL",
            Self::Kafka => "WORKBOOK_KAFKA_BROKERS",
        }
    }

    /// What a value of [`Self::env_var`] looks like, for messages.
    pub fn env_example(self) -> &'static str {
        match self {
            Self::Postgres => "postgres://postgres@127.0.0.1:5432/postgres",
            Self::MySql => "mysql://root@127.0.0.1:3306/mysql",
            Self::Redis => "redis://127.0.0.1:6379",
            Self::Kafka => "127.0.0.1:9092",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL/MariaDB",
            Self::Redis => "Redis",
            Self::Kafka => "Kafka",
        })
    }
}
