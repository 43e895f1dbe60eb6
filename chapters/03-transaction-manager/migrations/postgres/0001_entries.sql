-- What the propagation tests write: one row per scope, labelled, to see which scopes committed.
CREATE TABLE entries (
    id BIGSERIAL PRIMARY KEY,
    label TEXT NOT NULL
);
