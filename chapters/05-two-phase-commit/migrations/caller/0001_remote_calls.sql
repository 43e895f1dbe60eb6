-- The caller's record of its remote calls: one row per resource and kind (`key` is the key the
-- caller assigned, which the remote keeps as the resource's `object_key`; `kind` is what the
-- resource is, so that one table and one recovery worker serve every kind). The state is the
-- source's: `create_requested`, `created`, `create_failed`, and the same for update and delete.
-- A row is written `..._requested` before its call is made; recovery resumes the rows left so.
CREATE TABLE remote_calls (
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN (
        'create_requested', 'created', 'create_failed',
        'update_requested', 'updated', 'update_failed',
        'delete_requested', 'deleted', 'delete_failed'
    )),
    attempts INT NOT NULL DEFAULT 0,
    -- A requested call is due then: after a failed attempt, or after a worker's claim on it ends.
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (key, kind)
);

CREATE INDEX remote_calls_due ON remote_calls (next_attempt_at) WHERE state LIKE '%\_requested';
