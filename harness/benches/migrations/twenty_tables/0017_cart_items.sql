-- Table 17 of 20 for the provisioning benchmark: a realistic shape (keys, defaults, two indexes).
CREATE TABLE cart_items (
    id BIGSERIAL PRIMARY KEY,
    external_id UUID NOT NULL UNIQUE,
    owner_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'active', 'closed')),
    amount_cents BIGINT NOT NULL DEFAULT 0,
    attributes JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cart_items_owner_created ON cart_items (owner_id, created_at DESC);
CREATE INDEX cart_items_status ON cart_items (status) WHERE status <> 'closed';
