//! Chapter 01: a service in three layers.
//!
//! **The problem.** A handler that parses the request, checks the input, runs SQL and calls the
//! email provider inline works on day one. By day thirty, every change to a business rule touches
//! HTTP code, nothing can be tested without a database and a mail server, and a mail provider's bad
//! afternoon fails registrations that were already stored (`steps::step1_fat_handler`).
//!
//! **The pattern.** Three layers with one job each. *Handlers* (`http`, `grpc`) translate a
//! protocol into calls and errors into status codes, and rarely change. The *service*
//! (`service`, `validation`) holds every business rule and changes daily. *Repositories*
//! (`repository`) store and load, behind a trait, and seldom change. The service depends only on
//! traits, so its tests run on mocks in microseconds, and side features such as notifications
//! (`notify`) plug in at one place and can be deleted without touching the rest.
//!
//! **The trade-off.** More files and a few types that only translate, in exchange for code that can
//! be tested, changed and deleted one layer at a time.

pub mod app;
pub mod error;
pub mod grpc;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod observed;
pub mod proto;
pub mod proto_compat;
pub mod repository;
pub mod request_id;
pub mod service;
pub mod steps;
#[cfg(feature = "tour")]
pub mod tour;
pub mod user;
pub mod validation;

pub use app::Running;
pub use error::ServiceError;
pub use metrics::Metrics;
pub use notify::{Delivery, Notification, Notifications, Notifier, NotifyError};
pub use repository::{InMemoryUsers, PgUsers, RepositoryError, UserRepository};
pub use service::UserService;
pub use user::{Registration, User, UserId};

/// The users service's schema on PostgreSQL: the users, and the in-app notification provider's table.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
