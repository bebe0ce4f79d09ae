-- Who speaks when: each segment's speaker, and each transcript's speakers (id, name, suggested name, talk time,
-- voice print, as JSON), whether they were looked for, and why there are none where none were found.
ALTER TABLE segments ADD COLUMN speaker TEXT;
ALTER TABLE transcriptions ADD COLUMN diarized INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transcriptions ADD COLUMN speakers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE transcriptions ADD COLUMN speakers_note TEXT;
