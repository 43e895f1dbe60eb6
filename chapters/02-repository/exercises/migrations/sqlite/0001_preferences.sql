-- Where each user wants to hear from us, as the table keeps it: the channels' words in one text
-- column, comma-separated and in order (`email,sms`), which reports and ad-hoc queries read too.
CREATE TABLE preferences (
    user_id BLOB PRIMARY KEY,
    channels VARCHAR(64) NOT NULL
);
