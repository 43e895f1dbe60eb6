-- A user is one aggregate in the domain and two rows here. `email_normalized` exists only in the
-- table: it is how the database enforces "one account per email, whatever the case".
-- SQLite does not enforce VARCHAR lengths; the mapper checks them before any SQL runs.
CREATE TABLE users (
    id BLOB PRIMARY KEY,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (email_normalized)
);

CREATE TABLE profiles (
    user_id BLOB PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    avatar_url TEXT,
    bio TEXT
);
