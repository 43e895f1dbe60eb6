-- What the propagation tests write: one row per scope, labelled, to see which scopes committed.
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label TEXT NOT NULL
);
