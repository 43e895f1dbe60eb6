-- Table 11 of 20 for the provisioning benchmark: a realistic shape (keys, defaults, two indexes).
CREATE TABLE order_lines (
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
CREATE INDEX order_lines_owner_created ON order_lines (owner_id, created_at DESC);
CREATE INDEX order_lines_status ON order_lines (status) WHERE status <> 'closed';
