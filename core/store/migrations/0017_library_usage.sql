-- What hosted engines used for the library as a whole rather than for one job: answers to questions.
CREATE TABLE library_usage (
    stage TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,                   -- NULL when the model has no known price
    created_at TEXT NOT NULL
);
