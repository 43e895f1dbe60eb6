-- A schema of the pool test 'busy' alone, so that its template and pool are its own: no other
-- test claims from them or refills them while it counts.
CREATE TABLE marks (holder TEXT NOT NULL);
