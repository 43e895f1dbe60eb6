//! The same idea on Redis: a use case's writes to several keys land together or not at all.
//!
//! Redis has no `BEGIN`. It has `MULTI` ... `EXEC`: commands queued between them run as one, with
//! nothing from other clients in between. So a Redis transaction here is a queue: writes made in
//! the scope are queued, and sent as one atomic pipeline when the outermost scope succeeds; a
//! failed scope sends nothing. Reads are not queued (a queued read would answer only after
//! `EXEC`), so they see the current data.
//!
//! For a decision based on a read (take one from the stock if there is one), `WATCH` makes the
//! transaction optimistic: if a watched key changes between the read and `EXEC`, Redis runs
//! nothing and the scope fails with `WatchConflict`, to be retried by the caller. Each transaction
//! gets a connection of its own, because `WATCH` belongs to a connection.
//!
//! A scope that joins the transaction and does not end with `Ok` marks it rollback-only, as on
//! SQL: the outermost scope then sends nothing and fails with `UnexpectedRollback`. Redis has no
//! savepoints: `Nested` fails with `NestedUnsupported`. Isolation and read-only do
//! not apply and are refused rather than ignored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;

use crate::ctx::{Ctx, Frame, ManagerId};
use crate::error::TxError;
use crate::manager::ending::Doom;
use crate::manager::propagation::{Decision, decide};
use crate::settings::Settings;

/// Manages transactions on one Redis server. A clone manages the same transactions.
#[derive(Clone)]
pub struct RedisManager {
    client: redis::Client,
    id: ManagerId,
}

/// The open transaction: its own connection, the writes queued so far, and whether a scope that
/// joined it failed.
struct RedisTransaction {
    connection: Mutex<MultiplexedConnection>,
    queued: std::sync::Mutex<redis::Pipeline>,
    rollback_only: AtomicBool,
}

fn redis_error(doing: &'static str) -> impl FnOnce(redis::RedisError) -> TxError {
    move |source| TxError::Redis { doing, source }
}

impl RedisManager {
    pub fn new(client: redis::Client) -> Self {
        Self {
            client,
            id: ManagerId::next(),
        }
    }

    // ANCHOR: redis_run
    /// Runs `body` in a Redis transaction: its queued writes are executed atomically when it
    /// succeeds, and dropped when it fails.
    pub async fn run<T, E>(
        &self,
        ctx: &Ctx,
        settings: Settings,
        body: impl AsyncFnOnce(&Ctx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<TxError>,
    {
        self.run_watching(ctx, settings, &[], body).await
    }

    /// The same, watching `watch`: if one of those keys changes before `EXEC`, nothing is written
    /// and the scope fails with [`TxError::WatchConflict`].
    pub async fn run_watching<T, E>(
        &self,
        ctx: &Ctx,
        settings: Settings,
        watch: &[&str],
        body: impl AsyncFnOnce(&Ctx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<TxError>,
    {
        if settings.read_only || settings.isolation.is_some() || settings.timeout.is_some() {
            return Err(
                TxError::Incompatible("Redis transactions take no isolation, read-only or timeout".into()).into(),
            );
        }
        match decide(settings.propagation, self.transaction(ctx))? {
            Decision::Join(transaction) => {
                if !watch.is_empty() {
                    let mut connection = transaction.connection.lock().await;
                    redis::cmd("WATCH")
                        .arg(watch)
                        .exec_async(&mut *connection)
                        .await
                        .map_err(redis_error("watching keys"))?;
                }
                // As on SQL: any ending but `Ok` (error, panic, drop) dooms the transaction.
                let doom = Doom::new(&transaction.rollback_only);
                let value = body(ctx).await?;
                doom.spare();
                Ok(value)
            }
            Decision::Savepoint(_) => Err(TxError::NestedUnsupported.into()),
            Decision::Begin => self.begin_and_run(ctx, watch, body).await,
            Decision::Suspend => body(&ctx.with(self.id, Frame::Suspended)).await,
        }
    }
    // ANCHOR_END: redis_run

    async fn begin_and_run<T, E>(
        &self,
        ctx: &Ctx,
        watch: &[&str],
        body: impl AsyncFnOnce(&Ctx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<TxError>,
    {
        let mut connection = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(redis_error("connecting for a transaction"))?;
        if !watch.is_empty() {
            redis::cmd("WATCH")
                .arg(watch)
                .exec_async(&mut connection)
                .await
                .map_err(redis_error("watching keys"))?;
        }
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        let transaction = Arc::new(RedisTransaction {
            connection: Mutex::new(connection),
            queued: std::sync::Mutex::new(pipeline),
            rollback_only: AtomicBool::new(false),
        });
        let inner_ctx = ctx.with(self.id, Frame::Transaction(transaction.clone()));

        let value = body(&inner_ctx).await?;
        if transaction.rollback_only.load(Ordering::SeqCst) {
            // A joined scope failed and the body carried on: send nothing. Dropping the
            // connection discards the queue and any `WATCH`.
            return Err(TxError::UnexpectedRollback.into());
        }

        let pipeline = std::mem::take(&mut *transaction.queued.lock().expect("not poisoned"));
        let mut connection = transaction.connection.lock().await;
        // `EXEC` answers nil when a watched key changed: redis-rs reads that as `None`.
        let executed: Option<redis::Value> = pipeline
            .query_async(&mut *connection)
            .await
            .map_err(redis_error("executing the transaction"))?;
        match executed {
            Some(_) => Ok(value),
            None => Err(TxError::WatchConflict.into()),
        }
    }

    /// Queues a write in the current transaction, or runs it at once outside one.
    pub async fn write(&self, ctx: &Ctx, command: redis::Cmd) -> Result<(), TxError> {
        match self.transaction(ctx) {
            Some(transaction) => {
                transaction
                    .queued
                    .lock()
                    .expect("not poisoned")
                    .add_command(command)
                    .ignore();
                Ok(())
            }
            None => {
                let mut connection = self.connection().await?;
                command
                    .exec_async(&mut connection)
                    .await
                    .map_err(redis_error("writing"))
            }
        }
    }

    /// Runs a read now, on the transaction's connection if there is one.
    pub async fn read<T: redis::FromRedisValue>(&self, ctx: &Ctx, command: redis::Cmd) -> Result<T, TxError> {
        match self.transaction(ctx) {
            Some(transaction) => {
                let mut connection = transaction.connection.lock().await;
                command
                    .query_async(&mut *connection)
                    .await
                    .map_err(redis_error("reading"))
            }
            None => {
                let mut connection = self.connection().await?;
                command
                    .query_async(&mut connection)
                    .await
                    .map_err(redis_error("reading"))
            }
        }
    }

    /// A connection for work outside any transaction.
    async fn connection(&self) -> Result<MultiplexedConnection, TxError> {
        self.client
            .get_multiplexed_async_connection()
            .await
            .map_err(redis_error("connecting"))
    }

    fn transaction(&self, ctx: &Ctx) -> Option<Arc<RedisTransaction>> {
        match ctx.frame(self.id)? {
            Frame::Transaction(any) => any.clone().downcast::<RedisTransaction>().ok(),
            Frame::Suspended => None,
        }
    }
}
