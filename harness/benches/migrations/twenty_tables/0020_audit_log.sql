-- Table 20 of 20 for the provisioning benchmark: a realistic shape (keys, defaults, two indexes).
CREATE TABLE audit_log (
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
CREATE INDEX audit_log_owner_created ON audit_log (owner_id, created_at DESC);
CREATE INDEX audit_log_status ON audit_log (status) WHERE status <> 'closed';
