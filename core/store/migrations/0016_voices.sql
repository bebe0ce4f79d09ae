-- Named speakers, one row per (video, speaker): who spoke how long, and the voice print each person's print is made
-- from ('[]' where it was forgotten or VOICE_PROFILES is off). They leave with their video; `voices --forget NAME`
-- deletes a person's prints.
CREATE TABLE voice_samples (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    speaker TEXT NOT NULL,
    person TEXT NOT NULL,
    name TEXT NOT NULL,
    seconds REAL NOT NULL,
    voice TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT 'ge2e',  -- the network that made the print (SPEAKER_MODEL)
    created_at TEXT NOT NULL,
    PRIMARY KEY (job_id, speaker)
);
CREATE INDEX voice_samples_person ON voice_samples (person);
