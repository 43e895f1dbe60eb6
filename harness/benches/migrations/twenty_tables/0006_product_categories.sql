-- Table 6 of 20 for the provisioning benchmark: a realistic shape (keys, defaults, two indexes).
CREATE TABLE product_categories (
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
CREATE INDEX product_categories_owner_created ON product_categories (owner_id, created_at DESC);
CREATE INDEX product_categories_status ON product_categories (status) WHERE status <> 'closed';
