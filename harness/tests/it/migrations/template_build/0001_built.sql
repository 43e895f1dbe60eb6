-- The schema of the test that builds its template from nothing, so that no other test builds or
-- clones this template meanwhile.
CREATE TABLE built (id INTEGER PRIMARY KEY);
