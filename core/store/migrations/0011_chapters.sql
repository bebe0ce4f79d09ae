-- A video's chapters (JSON): the creator's, or found where a long talk changes subject.
ALTER TABLE jobs ADD COLUMN chapters TEXT NOT NULL DEFAULT '[]';
