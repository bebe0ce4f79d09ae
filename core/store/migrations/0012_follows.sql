-- Channels, playlists and feeds followed: each a JSON document, with when it is next checked.
CREATE TABLE follows (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    next_check_at TEXT NOT NULL
);
CREATE INDEX follows_due ON follows (next_check_at);
