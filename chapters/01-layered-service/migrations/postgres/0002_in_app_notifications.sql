-- The in-app notification provider's inbox: what the app shows a user under the bell icon.
-- Owned by `src/notify/in_app.rs`; deleting that provider deletes this table's only writer.
CREATE TABLE in_app_notifications (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title VARCHAR(200) NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX in_app_notifications_by_user ON in_app_notifications (user_id, created_at);
