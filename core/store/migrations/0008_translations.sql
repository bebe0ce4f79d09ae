-- The transcript in another language: one segment per transcript segment, at the same times.
CREATE TABLE translations (
    job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    language TEXT NOT NULL,          -- translated into
    source_language TEXT,            -- spoken
    engine TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE translation_segments (
    job_id TEXT NOT NULL REFERENCES translations (job_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,            -- the transcript segment it translates
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);

-- Keyword search finds a moment by the words of either language.
CREATE VIRTUAL TABLE translation_segments_fts USING fts5(
    text,
    job_id UNINDEXED,
    idx UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER translation_segments_fts_insert AFTER INSERT ON translation_segments BEGIN
    INSERT INTO translation_segments_fts (text, job_id, idx) VALUES (new.text, new.job_id, new.idx);
END;

CREATE TRIGGER translation_segments_fts_delete AFTER DELETE ON translation_segments BEGIN
    DELETE FROM translation_segments_fts WHERE job_id = old.job_id AND idx = old.idx;
END;
