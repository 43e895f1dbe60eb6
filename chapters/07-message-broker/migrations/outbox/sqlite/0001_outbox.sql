-- The users service: its users, and the outbox its events wait in until a relay publishes them.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

-- One row per event not yet published. `seq` orders the events of one shard; `shard` is a hash of
-- the aggregate id, so that one aggregate's events always sit in the same shard.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    shard INTEGER NOT NULL,
    kind TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX outbox_by_shard ON outbox (shard, seq);

-- SQLite has one writer and no row locks: one relay at a time, and the shards are only for the
-- schema to match the other databases'.
CREATE TABLE outbox_shards (
    shard INTEGER PRIMARY KEY
);
WITH RECURSIVE n(shard) AS (SELECT 0 UNION ALL SELECT shard + 1 FROM n WHERE shard < 15)
INSERT INTO outbox_shards (shard) SELECT shard FROM n;
