-- Word-level times of each segment, where the speech-to-text engine gives them (JSON list).
ALTER TABLE segments ADD COLUMN words TEXT;
