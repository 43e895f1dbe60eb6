-- A consuming service's own database: the events it has processed, and its effects. The same
-- tables as on PostgreSQL (whose two migrations this one folds together), with the lengths MySQL
-- needs for a key: an event id is a UUID, a consumer or an event kind a short name.
CREATE TABLE processed_events (
    consumer VARCHAR(100) NOT NULL,
    event_id CHAR(36) NOT NULL,
    -- When the event was processed, so that the record can be pruned past a retention window.
    processed_at DATETIME(6),
    PRIMARY KEY (consumer, event_id),
    INDEX processed_events_by_age (processed_at)
);

-- The welcome service's effect: one welcome per registered user. No unique constraint on
-- purpose: a duplicate here is the bug an idempotent consumer prevents, and the tests count it.
-- An email is at most 254 characters (RFC 5321's path limit); a longer one is refused.
CREATE TABLE welcomes (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id CHAR(36) NOT NULL,
    email VARCHAR(254) NOT NULL
);

-- The analytics service's effect: a counter per event type, which a redelivery would inflate.
CREATE TABLE event_counts (
    kind VARCHAR(100) PRIMARY KEY,
    seen BIGINT NOT NULL
);
