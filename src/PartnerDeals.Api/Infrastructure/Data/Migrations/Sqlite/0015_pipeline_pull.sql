-- Pipeline pull: per CRM, where the last committed page of its pipeline left off (in the CRM's own terms: its
-- clock and the last record at it, or its delta link), the lease of the instance pulling it, and what the runs did.
CREATE TABLE pipeline_cursors (
    crm              TEXT    NOT NULL PRIMARY KEY,
    resume_from      TEXT    NULL,
    locked_until     TEXT    NULL,
    lease_id         TEXT    NULL,
    run_requested    INTEGER NOT NULL,
    last_started_at  TEXT    NULL,
    last_finished_at TEXT    NULL,
    last_error       TEXT    NULL,
    paused_until     TEXT    NULL,
    run_created      INTEGER NOT NULL,
    run_updated      INTEGER NOT NULL,
    run_deleted      INTEGER NOT NULL,
    run_rejected     INTEGER NOT NULL,
    total_created    INTEGER NOT NULL,
    total_updated    INTEGER NOT NULL,
    total_deleted    INTEGER NOT NULL,
    total_rejected   INTEGER NOT NULL,
    -- The latest records the mapping could not read: a JSON array of {externalId, reason}.
    rejections       TEXT    NULL,
    updated_at       TEXT    NOT NULL
);
