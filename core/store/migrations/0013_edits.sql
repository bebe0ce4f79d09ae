-- Corrections of transcripts, each a JSON document, numbered per video.
CREATE TABLE edits (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, revision)
);
