-- Keyword search over transcript segments (hybrid search pairs it with the vectors).
CREATE VIRTUAL TABLE segments_fts USING fts5(
    text,
    job_id UNINDEXED,
    idx UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN
    INSERT INTO segments_fts (text, job_id, idx) VALUES (new.text, new.job_id, new.idx);
END;

CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN
    DELETE FROM segments_fts WHERE job_id = old.job_id AND idx = old.idx;
END;

INSERT INTO segments_fts (text, job_id, idx) SELECT text, job_id, idx FROM segments;

CREATE INDEX analysis_category ON analysis (category);
CREATE INDEX analysis_sentiment ON analysis (sentiment_label);

-- A counter bumped on every change to the embeddings, so a search process knows cheaply when to
-- reload its in-memory vector matrix.
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('embeddings', 0);

CREATE TRIGGER embeddings_changed_insert AFTER INSERT ON embeddings BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'embeddings';
END;

CREATE TRIGGER embeddings_changed_delete AFTER DELETE ON embeddings BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'embeddings';
END;
