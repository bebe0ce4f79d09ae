-- Themes: groups of videos about one subject (core/library/themes.py), each video in at most one.
CREATE TABLE themes (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]',
    named INTEGER NOT NULL DEFAULT 0,
    merged_into TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE theme_videos (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    theme_id TEXT NOT NULL REFERENCES themes (id) ON DELETE CASCADE
);
CREATE INDEX theme_videos_theme ON theme_videos (theme_id);
