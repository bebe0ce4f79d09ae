-- Words and names speech-to-text should expect, per collection; and what each transcript was told to expect.
ALTER TABLE collections ADD COLUMN vocabulary TEXT NOT NULL DEFAULT '[]';
ALTER TABLE transcriptions ADD COLUMN vocabulary TEXT NOT NULL DEFAULT '[]';
ALTER TABLE transcriptions ADD COLUMN prompt TEXT;
