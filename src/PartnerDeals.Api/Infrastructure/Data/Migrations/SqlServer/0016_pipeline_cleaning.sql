-- Pipeline pull: records kept after cleaning (per run, in total, and the latest with what was changed: a JSON array
-- of {externalId, changes}), and the runs that failed in a row, which space the next try (backoff).
ALTER TABLE dbo.pipeline_cursors ADD
    run_cleaned   INT           NOT NULL CONSTRAINT df_pipeline_cursors_run_cleaned DEFAULT 0,
    total_cleaned BIGINT        NOT NULL CONSTRAINT df_pipeline_cursors_total_cleaned DEFAULT 0,
    cleanings     NVARCHAR(MAX) NULL,
    failed_runs   INT           NOT NULL CONSTRAINT df_pipeline_cursors_failed_runs DEFAULT 0;
