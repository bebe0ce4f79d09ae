-- A long video whose chapters are about different subjects belongs to each of their themes.
CREATE TABLE theme_videos_by_part (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    theme_id TEXT NOT NULL REFERENCES themes (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, theme_id)
);
INSERT INTO theme_videos_by_part (job_id, theme_id) SELECT job_id, theme_id FROM theme_videos;
DROP TABLE theme_videos;
ALTER TABLE theme_videos_by_part RENAME TO theme_videos;
CREATE INDEX theme_videos_theme ON theme_videos (theme_id);
