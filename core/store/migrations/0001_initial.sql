-- The library: one row per video, and what the pipeline made of it.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    platform TEXT NOT NULL,
    extractor TEXT NOT NULL,
    video_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    stage TEXT NOT NULL DEFAULT 'pending',
    progress REAL NOT NULL DEFAULT 0,
    progress_detail TEXT NOT NULL DEFAULT '',
    error TEXT,
    title TEXT,
    uploader TEXT,
    duration REAL,
    upload_date TEXT,
    description TEXT,
    thumbnail_url TEXT,
    webpage_url TEXT,
    stage_times TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (platform, video_id)
);
CREATE INDEX jobs_status ON jobs (status);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE audio_files (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    audio_path TEXT NOT NULL,
    thumbnail_path TEXT,
    duration REAL NOT NULL,
    size_bytes INTEGER NOT NULL,
    sample_rate INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE transcriptions (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    language TEXT,
    engine TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE segments (
    job_id TEXT NOT NULL REFERENCES transcriptions (job_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE analysis (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    summary TEXT NOT NULL,
    topics TEXT NOT NULL,            -- JSON list
    sentiment_label TEXT NOT NULL,
    sentiment_score REAL NOT NULL,
    segment_sentiment TEXT NOT NULL, -- JSON list, one score per segment
    category TEXT NOT NULL,
    language TEXT,
    engine TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One vector per segment; the model and dimension travel with it so spaces never mix.
CREATE TABLE embeddings (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    segment_idx INTEGER NOT NULL,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,            -- float32, L2-normalised
    PRIMARY KEY (job_id, segment_idx, model)
);
CREATE INDEX embeddings_model ON embeddings (model);
