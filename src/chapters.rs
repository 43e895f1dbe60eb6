//! The chapters of the workbook, in reading order: what each teaches and whether it exists yet.
//!
//! A chapter is added by its own issue. While the issue is open and the chapter has tests and a
//! tour, its entry is `InProgress`; when the issue is done, `Ready`. Both hold the chapter's tour,
//! so this list is the one place a chapter is added: a written chapter without a tour does not
//! compile.

use futures::future::LocalBoxFuture;
use harness::narrator::Narrator;
use harness::tour::Services;

/// A chapter's narrated tour: its crate's `tour::run`. Tours run one after another on the CLI's thread,
/// and some hold what cannot cross threads (librdkafka's mock cluster), so the future is not `Send`.
pub type Tour = for<'a> fn(Services, &'a mut Narrator) -> LocalBoxFuture<'a, anyhow::Result<()>>;

#[derive(Clone, Copy)]
pub enum Status {
    Ready(Tour),
    /// Has tests and a tour, but its issue is not finished.
    #[allow(dead_code, reason = "no chapter is half-written right now; the next one starts here")]
    InProgress(Tour),
    Planned,
}

impl Status {
    /// The chapter's tour, once it has one.
    pub fn tour(self) -> Option<Tour> {
        match self {
            Status::Ready(tour) | Status::InProgress(tour) => Some(tour),
            Status::Planned => None,
        }
    }

    pub fn is_planned(self) -> bool {
        matches!(self, Status::Planned)
    }

    pub fn in_progress(self) -> bool {
        matches!(self, Status::InProgress(_))
    }
}

impl std::fmt::Debug for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Ready(_) => "Ready",
            Status::InProgress(_) => "InProgress",
            Status::Planned => "Planned",
        })
    }
}

#[derive(Debug)]
pub struct Chapter {
    /// `None` for the harness, which is not a chapter but has a tour of its own.
    pub number: Option<u8>,
    pub slug: &'static str,
    /// The cargo package, which is also the name nextest reports its tests under.
    pub package: &'static str,
    pub summary: &'static str,
    pub status: Status,
}

pub const CHAPTERS: &[Chapter] = &[
    Chapter {
        number: None,
        slug: "harness",
        package: "harness",
        summary: "real services per test: provisioning, isolation, faults, crash points",
        status: Status::Ready(|services, narrator| {
            Box::pin(async move { Ok(harness::tour::run(services, narrator).await?) })
        }),
    },
    Chapter {
        number: Some(1),
        slug: "layered-service",
        package: "ch01-layered-service",
        summary: "handler / service / repository; HTTP for clients, gRPC between services",
        status: Status::Ready(|services, narrator| Box::pin(ch01_layered_service::tour::run(services, narrator))),
    },
    Chapter {
        number: Some(2),
        slug: "repository",
        package: "ch02-repository",
        summary: "repository and data mapper: the domain model is not the table layout",
        status: Status::Ready(|services, narrator| Box::pin(ch02_repository::tour::run(services, narrator))),
    },
    Chapter {
        number: Some(3),
        slug: "transaction-manager",
        package: "ch03-transaction-manager",
        summary: "transactions hidden from use cases; nesting, propagation, savepoints",
        status: Status::Ready(|services, narrator| Box::pin(ch03_transaction_manager::tour::run(services, narrator))),
    },
    Chapter {
        number: Some(4),
        slug: "unit-of-work",
        package: "ch04-unit-of-work",
        summary: "identity map, change tracking, one batched atomic commit",
        status: Status::Ready(|services, narrator| Box::pin(ch04_unit_of_work::tour::run(services, narrator))),
    },
    Chapter {
        number: Some(5),
        slug: "two-phase-commit",
        package: "ch05-two-phase-commit",
        summary: "remote calls with caller-assigned keys: state tracking, recovery, no leaks",
        status: Status::Planned,
    },
    Chapter {
        number: Some(6),
        slug: "cache-strategies",
        package: "ch06-cache-strategies",
        summary: "read-through and write-through over Redis, and how they fail",
        status: Status::Planned,
    },
    Chapter {
        number: Some(7),
        slug: "message-broker",
        package: "ch07-message-broker",
        summary: "Kafka: decoupling, transactional outbox, idempotent consumers",
        status: Status::Ready(|services, narrator| Box::pin(ch07_message_broker::tour::run(services, narrator))),
    },
    Chapter {
        number: Some(8),
        slug: "publishing",
        package: "ch08-publishing",
        summary: "a draft store and a live store kept in sync",
        status: Status::Planned,
    },
];

impl Chapter {
    /// `01-layered-service`, or `harness`.
    pub fn id(&self) -> String {
        match self.number {
            Some(n) => format!("{n:02}-{}", self.slug),
            None => self.slug.to_owned(),
        }
    }

    /// Whether `name` designates this chapter: `3`, `03`, `transaction-manager`,
    /// `03-transaction-manager` or the package name all do.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim().to_ascii_lowercase();
        let by_number = self.number.is_some_and(|n| name.parse::<u8>().ok() == Some(n));
        by_number || name == self.slug || name == self.id() || name == self.package
    }
}

/// The chapter that `name` designates.
pub fn find(name: &str) -> Option<&'static Chapter> {
    CHAPTERS.iter().find(|chapter| chapter.answers_to(name))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("3", Some("ch03-transaction-manager"))]
    #[case("03", Some("ch03-transaction-manager"))]
    #[case("transaction-manager", Some("ch03-transaction-manager"))]
    #[case("03-transaction-manager", Some("ch03-transaction-manager"))]
    #[case("ch03-transaction-manager", Some("ch03-transaction-manager"))]
    #[case(" Harness ", Some("harness"))]
    #[case("9", None)]
    #[case("transaction", None)]
    fn a_chapter_answers_to_its_number_slug_id_and_package(#[case] name: &str, #[case] package: Option<&str>) {
        assert_eq!(find(name).map(|chapter| chapter.package), package);
    }

    #[test]
    fn ids_and_packages_follow_the_naming_convention() {
        for chapter in CHAPTERS.iter().filter(|chapter| chapter.number.is_some()) {
            assert_eq!(chapter.package, format!("ch{}", chapter.id()), "{chapter:?}");
        }
    }
}
