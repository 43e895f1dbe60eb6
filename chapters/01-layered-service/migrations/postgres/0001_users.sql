-- The users service's table. The service lower-cases and trims emails before storing them; the
-- CHECK makes sure nothing else slips an unnormalised one in, and the UNIQUE constraint is what
-- really decides "one account per email" when two registrations race.
CREATE TABLE users (
    id UUID PRIMARY KEY,
    email VARCHAR(254) NOT NULL,
    first_name VARCHAR(100) NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    date_of_birth DATE NOT NULL,
    phone VARCHAR(16),
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (email),
    CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email)))
);
