-- The users service: its users, and the outbox its events wait in until a relay publishes them.
CREATE TABLE users (
    id CHAR(36) PRIMARY KEY,
    email VARCHAR(254) NOT NULL UNIQUE
);

-- One row per event not yet published. `seq` orders the events of one shard; `shard` is a hash of
-- the aggregate id, so that one aggregate's events always sit in the same shard.
CREATE TABLE outbox (
    seq BIGINT AUTO_INCREMENT PRIMARY KEY,
    event_id CHAR(36) NOT NULL UNIQUE,
    shard INTEGER NOT NULL,
    kind VARCHAR(100) NOT NULL,
    aggregate_id VARCHAR(100) NOT NULL,
    occurred_at DATETIME(6) NOT NULL,
    payload TEXT NOT NULL,
    INDEX outbox_by_shard (shard, seq)
);

-- A relay locks a shard's row while it publishes that shard: relays side by side take different
-- shards, and one aggregate's events are published by one relay at a time, in order.
CREATE TABLE outbox_shards (
    shard INTEGER PRIMARY KEY
);
INSERT INTO outbox_shards (shard) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12), (13), (14), (15);
