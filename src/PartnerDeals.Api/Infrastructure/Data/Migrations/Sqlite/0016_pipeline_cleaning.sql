-- Pipeline pull: records kept after cleaning (per run, in total, and the latest with what was changed: a JSON array
-- of {externalId, changes}), and the runs that failed in a row, which space the next try (backoff).
ALTER TABLE pipeline_cursors ADD COLUMN run_cleaned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pipeline_cursors ADD COLUMN total_cleaned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pipeline_cursors ADD COLUMN cleanings TEXT NULL;
ALTER TABLE pipeline_cursors ADD COLUMN failed_runs INTEGER NOT NULL DEFAULT 0;
