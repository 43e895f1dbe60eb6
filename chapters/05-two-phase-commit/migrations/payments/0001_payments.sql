-- The payments service's own database. A charge is modelled as the source says: `object_key`,
-- the key its caller assigned, unique and kept for the charge's whole life, beside `id`, the
-- service's own. The idempotency keys are the requests': the request's fingerprint, where the
-- request got to (its recovery point), its stored response once it has one, a lock while it is
-- in flight, and when the stored response expires. The charge outlives its key's row.
CREATE TABLE charges (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_key TEXT NOT NULL UNIQUE,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    state TEXT NOT NULL CHECK (state IN ('charged', 'refunded')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    recovery_point TEXT NOT NULL CHECK (recovery_point IN ('started', 'charge_created', 'finished')),
    response_status INT,
    response_body TEXT,
    -- While a request holds its key: a second request with the key until then is answered 409.
    -- A request that died leaves its lock to run out, and the next with its key resumes it.
    locked_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
