-- When stored audio was removed because AUDIO_RETENTION_DAYS passed (the transcript and the rest stay).
ALTER TABLE audio_files ADD COLUMN audio_removed_at TEXT;
CREATE INDEX audio_files_created ON audio_files (created_at);
