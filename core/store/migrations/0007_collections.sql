-- Playlists, channels and multi-video pages: the videos of one link form a collection.
CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    platform TEXT NOT NULL,
    source_id TEXT NOT NULL,
    title TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (platform, source_id)
);
ALTER TABLE jobs ADD COLUMN collection_id TEXT REFERENCES collections (id) ON DELETE SET NULL;
CREATE INDEX jobs_collection ON jobs (collection_id);
