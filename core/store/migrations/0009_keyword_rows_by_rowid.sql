-- Each keyword-index row now shares its segment's rowid, so removing a segment removes its row by that key
-- instead of scanning the whole index (its job_id and idx columns are not indexed): deleting a video costs what
-- the video holds, not what the library holds.
DROP TRIGGER segments_fts_insert;
DROP TRIGGER segments_fts_delete;
DELETE FROM segments_fts;
INSERT INTO segments_fts (rowid, text, job_id, idx) SELECT rowid, text, job_id, idx FROM segments;

CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN
    INSERT INTO segments_fts (rowid, text, job_id, idx) VALUES (new.rowid, new.text, new.job_id, new.idx);
END;

CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN
    DELETE FROM segments_fts WHERE rowid = old.rowid;
END;

DROP TRIGGER translation_segments_fts_insert;
DROP TRIGGER translation_segments_fts_delete;
DELETE FROM translation_segments_fts;
INSERT INTO translation_segments_fts (rowid, text, job_id, idx)
    SELECT rowid, text, job_id, idx FROM translation_segments;

CREATE TRIGGER translation_segments_fts_insert AFTER INSERT ON translation_segments BEGIN
    INSERT INTO translation_segments_fts (rowid, text, job_id, idx) VALUES (new.rowid, new.text, new.job_id, new.idx);
END;

CREATE TRIGGER translation_segments_fts_delete AFTER DELETE ON translation_segments BEGIN
    DELETE FROM translation_segments_fts WHERE rowid = old.rowid;
END;
