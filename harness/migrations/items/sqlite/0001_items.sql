-- A table for the harness's own tests: every test writes the same name into it.
CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    owner TEXT NOT NULL
);
CREATE INDEX items_name ON items (name);
