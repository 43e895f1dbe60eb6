-- The users service: its users, and the outbox its events wait in until a relay publishes them.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

-- One row per event not yet published. `seq` orders the events of one shard; `shard` is a hash of
-- the aggregate id, so that one aggregate's events always sit in the same shard.
CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    shard INTEGER NOT NULL,
    kind TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX outbox_by_shard ON outbox (shard, seq);
-- An outbox is a queue: each row is deleted soon after it is written, and the dead rows slow every
-- scan until a vacuum removes them. By default autovacuum waits for 20% of the table to be dead,
-- which for a table that is nearly empty between bursts is never early enough; count rows instead.
ALTER TABLE outbox SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 5000
);

-- A relay locks a shard's row while it publishes that shard: relays side by side take different
-- shards, and one aggregate's events are published by one relay at a time, in order.
CREATE TABLE outbox_shards (
    shard INTEGER PRIMARY KEY
);
INSERT INTO outbox_shards (shard) SELECT generate_series(0, 15);
