-- Table 14 of 20 for the provisioning benchmark: a realistic shape (keys, defaults, two indexes).
CREATE TABLE shipments (
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
CREATE INDEX shipments_owner_created ON shipments (owner_id, created_at DESC);
CREATE INDEX shipments_status ON shipments (status) WHERE status <> 'closed';
