//! Idempotency keys, as a service that is called over an unreliable network keeps them.
//!
//! Each request that changes something carries a key its caller chose (the `Idempotency-Key`
//! header). The service keeps, per key: a fingerprint of the request, how far the request got
//! (its recovery point), the response once there is one, and a lock while the request is in
//! flight. So:
//! - the same key with the same request, once answered, gets the stored answer again, and the
//!   work is not done twice;
//! - the same key with a different request is refused (422): the caller has a bug;
//! - the same key while the first request is still in flight is refused (409): try again later;
//! - a request that died halfway leaves its lock to run out, and the next request with its key
//!   resumes from the recovery point.
//!
//! A stored response expires (a sweep deletes it), but the resource it made keeps its caller's
//! `object_key`, so a retry after the expiry finds the resource instead of making another.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// How long keys and their locks are kept.
#[derive(Debug, Clone, Copy)]
pub struct KeyPolicy {
    /// A request in flight holds its key this long; a request that died releases it then.
    pub lock: Duration,
    /// A stored response is kept this long, then swept.
    pub keep: Duration,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            lock: Duration::from_secs(30),
            keep: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// How far a request got: each of its phases commits with the point it reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryPoint {
    Started,
    ChargeCreated,
    Finished,
}

impl RecoveryPoint {
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryPoint::Started => "started",
            RecoveryPoint::ChargeCreated => "charge_created",
            RecoveryPoint::Finished => "finished",
        }
    }

    fn parse(text: &str) -> Result<Self, KeyError> {
        match text {
            "started" => Ok(RecoveryPoint::Started),
            "charge_created" => Ok(RecoveryPoint::ChargeCreated),
            "finished" => Ok(RecoveryPoint::Finished),
            other => Err(KeyError::Corrupt(format!("unknown recovery point {other:?}"))),
        }
    }
}

/// What a request with a key is to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Begun {
    /// The key is new: the request does the work from the start.
    Fresh,
    /// A request with this key died at this point: resume from it.
    Resume(RecoveryPoint),
    /// A request with this key was answered: answer the same.
    Replay { status: u16, body: String },
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("this idempotency key was used for a different request")]
    Mismatch,
    #[error("a request with this idempotency key is still in flight")]
    InFlight,
    #[error("an idempotency key's row makes no sense: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

/// The fingerprint of a request: what it asks for, hashed. Two requests with one key and
/// different fingerprints are different requests.
pub fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    // serde_json writes an object's fields in a fixed (sorted) order: the same request, the same
    // bytes, however its sender ordered them.
    hasher.update(body.to_string().as_bytes());
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

// ANCHOR: begin
/// Takes `key` for a request with `fingerprint`: records it if it is new, or says what an
/// earlier request with it left.
pub async fn begin(pool: &PgPool, key: &str, fingerprint: &str, policy: KeyPolicy) -> Result<Begun, KeyError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (key, fingerprint, recovery_point, locked_until, expires_at) \
         VALUES ($1, $2, 'started', now() + make_interval(secs => $3), now() + make_interval(secs => $4)) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(fingerprint)
    .bind(policy.lock.as_secs_f64())
    .bind(policy.keep.as_secs_f64())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 1 {
        tx.commit().await?;
        return Ok(Begun::Fresh);
    }
    let (stored, point, status, body, locked): (String, String, Option<i32>, Option<String>, bool) = sqlx::query_as(
        "SELECT fingerprint, recovery_point, response_status, response_body, \
                COALESCE(locked_until > now(), false) \
         FROM idempotency_keys WHERE key = $1 FOR UPDATE",
    )
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    if stored != fingerprint {
        return Err(KeyError::Mismatch);
    }
    if let (Some(status), Some(body)) = (status, body) {
        let status = u16::try_from(status).map_err(|_| KeyError::Corrupt(format!("status {status}")))?;
        return Ok(Begun::Replay { status, body });
    }
    if locked {
        return Err(KeyError::InFlight);
    }
    // The request that held the key died without an answer: this one takes over.
    sqlx::query("UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $2) WHERE key = $1")
        .bind(key)
        .bind(policy.lock.as_secs_f64())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Begun::Resume(RecoveryPoint::parse(&point)?))
}
// ANCHOR_END: begin

/// Moves `key` on to `point`, in the transaction of the phase that reached it.
pub async fn reached(conn: &mut sqlx::PgConnection, key: &str, point: RecoveryPoint) -> sqlx::Result<()> {
    sqlx::query("UPDATE idempotency_keys SET recovery_point = $2 WHERE key = $1")
        .bind(key)
        .bind(point.as_str())
        .execute(conn)
        .await
        .map(drop)
}

/// Stores the answer to `key`'s request and releases its lock: from now on the key is answered
/// from here.
pub async fn finish(pool: &PgPool, key: &str, status: u16, body: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET recovery_point = 'finished', response_status = $2, response_body = $3, \
         locked_until = NULL WHERE key = $1",
    )
    .bind(key)
    .bind(i32::from(status))
    .bind(body)
    .execute(pool)
    .await
    .map(drop)
}

/// Forgets `key` after a request that failed without doing anything, so that a retry starts
/// afresh instead of waiting out the lock.
pub async fn release(pool: &PgPool, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND recovery_point = 'started'")
        .bind(key)
        .execute(pool)
        .await
        .map(drop)
}

/// Deletes the keys whose stored responses have expired (not those still in flight). Returns how
/// many it deleted.
pub async fn sweep_expired(pool: &PgPool) -> sqlx::Result<u64> {
    let swept = sqlx::query(
        "DELETE FROM idempotency_keys WHERE expires_at <= now() AND (locked_until IS NULL OR locked_until <= now())",
    )
    .execute(pool)
    .await?;
    Ok(swept.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_the_request_whatever_the_order_of_its_fields() {
        let one = serde_json::json!({"object_key": "order-1:charge", "amount_cents": 500});
        let same: serde_json::Value =
            serde_json::from_str(r#"{"amount_cents": 500, "object_key": "order-1:charge"}"#).unwrap();
        let other = serde_json::json!({"object_key": "order-1:charge", "amount_cents": 501});

        assert_eq!(
            fingerprint("POST", "/charges", &one),
            fingerprint("POST", "/charges", &same)
        );
        assert_ne!(
            fingerprint("POST", "/charges", &one),
            fingerprint("POST", "/charges", &other)
        );
        assert_ne!(
            fingerprint("POST", "/charges", &one),
            fingerprint("POST", "/refunds", &one)
        );
    }

    #[test]
    fn recovery_points_read_back_as_written() {
        for point in [
            RecoveryPoint::Started,
            RecoveryPoint::ChargeCreated,
            RecoveryPoint::Finished,
        ] {
            assert_eq!(RecoveryPoint::parse(point.as_str()).unwrap(), point);
        }
        assert!(matches!(RecoveryPoint::parse("charged"), Err(KeyError::Corrupt(_))));
    }
}
