-- The caller's own orders. An order is `placed` with its payment call recorded as requested, in
-- one transaction; `paid` or `cancelled` once the call is settled, in one transaction with it.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer TEXT NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    state TEXT NOT NULL CHECK (state IN ('placed', 'paid', 'cancelled')),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
