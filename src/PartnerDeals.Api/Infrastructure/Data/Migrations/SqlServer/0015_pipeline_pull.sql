-- Pipeline pull: per CRM, where the last committed page of its pipeline left off (in the CRM's own terms: its
-- clock and the last record at it, or its delta link), the lease of the instance pulling it, and what the runs did.
CREATE TABLE dbo.pipeline_cursors (
    crm              NVARCHAR(32)      NOT NULL CONSTRAINT pk_pipeline_cursors PRIMARY KEY,
    resume_from      NVARCHAR(MAX)     NULL,
    locked_until     DATETIMEOFFSET(7) NULL,
    lease_id         CHAR(36)          NULL,
    run_requested    BIT               NOT NULL,
    last_started_at  DATETIMEOFFSET(7) NULL,
    last_finished_at DATETIMEOFFSET(7) NULL,
    last_error       NVARCHAR(2000)    NULL,
    paused_until     DATETIMEOFFSET(7) NULL,
    run_created      INT               NOT NULL,
    run_updated      INT               NOT NULL,
    run_deleted      INT               NOT NULL,
    run_rejected     INT               NOT NULL,
    total_created    BIGINT            NOT NULL,
    total_updated    BIGINT            NOT NULL,
    total_deleted    BIGINT            NOT NULL,
    total_rejected   BIGINT            NOT NULL,
    -- The latest records the mapping could not read: a JSON array of {externalId, reason}.
    rejections       NVARCHAR(MAX)     NULL,
    updated_at       DATETIMEOFFSET(7) NOT NULL
);
