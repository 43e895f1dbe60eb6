//! A payments service of the test's own: its database, its server, and a client.

use ch05_two_phase_commit::migrations::PAYMENTS;
use ch05_two_phase_commit::remote::idempotency::KeyPolicy;
use ch05_two_phase_commit::remote::payments::{self, ChargeRequest};
use ch05_two_phase_commit::remote::server::Running;
use harness::PgDatabase;

pub struct PaymentsService {
    pub db: PgDatabase,
    pub server: Running,
    pub client: reqwest::Client,
}

impl PaymentsService {
    pub async fn start(policy: KeyPolicy) -> anyhow::Result<Self> {
        let db = PgDatabase::new(&PAYMENTS).await?;
        let server = Running::serve(payments::router(db.pool().clone(), policy)).await?;
        Ok(PaymentsService {
            db,
            server,
            client: reqwest::Client::new(),
        })
    }

    /// `POST /charges` with `key`, and the fault header `fault` if it is not empty.
    pub async fn charge(&self, key: &str, request: &ChargeRequest, fault: &str) -> anyhow::Result<reqwest::Response> {
        let mut call = self
            .client
            .post(format!("{}/charges", self.server.url()))
            .header("idempotency-key", key)
            .json(request);
        if !fault.is_empty() {
            call = call.header("x-fault", fault);
        }
        Ok(call.send().await?)
    }

    /// How many charges the service holds.
    pub async fn charges(&self) -> anyhow::Result<i64> {
        Ok(harness::CountRows::count_rows(self.db.pool(), "charges").await?)
    }
}

pub fn request(object_key: &str, amount_cents: i64) -> ChargeRequest {
    ChargeRequest {
        object_key: object_key.into(),
        amount_cents,
    }
}
