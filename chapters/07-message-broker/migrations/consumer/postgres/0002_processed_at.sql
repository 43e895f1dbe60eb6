-- When each event was processed, so that the record can be pruned past a retention window.
-- Rows from before this column have no time, and are kept: their age is unknown.
ALTER TABLE processed_events ADD COLUMN processed_at TIMESTAMPTZ;
CREATE INDEX processed_events_by_age ON processed_events (processed_at);
