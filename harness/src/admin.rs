//! A few administrative sessions per server, kept open for the life of the test process.
//!
//! Every handout and every drop of a test database needs a session on the server's administrative
//! database. A new PostgreSQL session costs about 3 ms on the project's machine (a server process
//! forked and authenticated): more than the rename that hands out a ready database (0.2 ms). So the
//! harness keeps the sessions it made, idle, for the next step.
//!
//! Not a sqlx pool: when a server is down, a pool keeps retrying its connection until its acquire
//! timeout, and a test that cut its own database would wait that long for every drop. Here a
//! session that does not answer a ping is thrown away, a new one is made once, and if that fails
//! the error comes at once.
//!
//! The sessions live on the harness's background runtime and are only used from it ([`run`]): a
//! connection made on a test's own runtime would die with that test's runtime. Running there has a
//! second benefit: the work is a spawned task, so a test whose future is dropped halfway (a
//! timeout, a `select!`) cannot leave a session in the middle of a statement.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::BoxFuture;
use sqlx::Connection;

use crate::database::connect;
use crate::server::Server;
use crate::{HarnessError, ServiceKind, background};

/// Idle sessions kept per server: enough for one process's handouts and drops at a time.
const KEEP: usize = 4;

/// Per server, a `Vec<S::Connection>` of idle sessions.
type Idle = HashMap<(ServiceKind, String), Box<dyn Any + Send>>;
static IDLE: Mutex<Option<Idle>> = Mutex::new(None);

fn take_idle<S: Server>(url: &str) -> Option<S::Connection> {
    let mut idle = IDLE.lock().expect("not poisoned");
    idle.as_mut()?
        .get_mut(&(S::KIND, url.to_owned()))?
        .downcast_mut::<Vec<S::Connection>>()?
        .pop()
}

fn put_back<S: Server>(url: &str, session: S::Connection) {
    let mut idle = IDLE.lock().expect("not poisoned");
    let sessions = idle
        .get_or_insert_with(HashMap::new)
        .entry((S::KIND, url.to_owned()))
        .or_insert_with(|| Box::new(Vec::<S::Connection>::new()))
        .downcast_mut::<Vec<S::Connection>>()
        .expect("one kind of session per server kind");
    if sessions.len() < KEEP {
        sessions.push(session);
    }
}

/// An idle session that still answers, or a new one.
async fn session<S: Server>(url: &str) -> Result<S::Connection, HarnessError> {
    while let Some(mut idle) = take_idle::<S>(url) {
        if idle.ping().await.is_ok() {
            return Ok(idle);
        }
    }
    connect::<S>(url).await
}

/// Runs `work` on an administrative session of the server at `url`, on the background runtime.
/// The session is kept for the next step only when `work` succeeded: after an error it may be in
/// any state.
pub(crate) async fn run<S, T, W>(url: &str, work: W) -> Result<T, HarnessError>
where
    S: Server,
    T: Send + 'static,
    W: for<'c> FnOnce(&'c mut S::Connection) -> BoxFuture<'c, Result<T, HarnessError>> + Send + 'static,
{
    let url = url.to_owned();
    background::run(async move {
        let mut admin = session::<S>(&url).await?;
        let outcome = work(&mut admin).await;
        if outcome.is_ok() {
            put_back::<S>(&url, admin);
        }
        outcome
    })
    .await
}
