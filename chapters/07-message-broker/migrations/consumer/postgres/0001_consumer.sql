-- A consuming service's own database: the events it has processed, and its effects.
CREATE TABLE processed_events (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- The welcome service's effect: one welcome per registered user. No unique constraint on
-- purpose: a duplicate here is the bug an idempotent consumer prevents, and the tests count it.
CREATE TABLE welcomes (
    id BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL,
    email TEXT NOT NULL
);

-- The analytics service's effect: a counter per event type, which a redelivery would inflate.
CREATE TABLE event_counts (
    kind TEXT PRIMARY KEY,
    seen BIGINT NOT NULL
);
