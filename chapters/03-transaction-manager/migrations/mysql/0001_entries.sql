-- What the propagation tests write: one row per scope, labelled, to see which scopes committed.
CREATE TABLE entries (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    label VARCHAR(200) NOT NULL
);
