-- What each hosted engine call used and cost, per job and stage.
CREATE TABLE usage (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    audio_seconds REAL NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,                   -- NULL when the model has no known price
    created_at TEXT NOT NULL
);
CREATE INDEX usage_job ON usage (job_id);
