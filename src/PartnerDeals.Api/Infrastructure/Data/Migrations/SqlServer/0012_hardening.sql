-- Amounts are DECIMAL(19, 4) on SQL Server already: exact, and wide enough for the validated maximum
-- (999,999,999,999,999.9999). Only SQLite needs its money columns rebuilt.

-- What the partner sees moves on its own version: a change only vendor keys see (a competing claim
-- withdrawn, a conflict re-recorded) leaves the partner's ETag and updatedAt as they were.
ALTER TABLE dbo.registrations ADD partner_version INT NOT NULL CONSTRAINT df_registrations_partner_version DEFAULT 1;
ALTER TABLE dbo.registrations ADD partner_updated_at DATETIMEOFFSET(7) NULL;
GO
UPDATE dbo.registrations SET partner_version = version, partner_updated_at = updated_at;

-- Every conflict pre-check a partner key ran: the quota counts them, ops read them.
CREATE TABLE dbo.partner_conflict_checks (
    id            CHAR(36)          NOT NULL CONSTRAINT pk_partner_conflict_checks PRIMARY KEY,
    partner_id    CHAR(36)          NOT NULL CONSTRAINT fk_partner_conflict_checks_partner REFERENCES dbo.partners (id),
    key_id        CHAR(36)          NOT NULL,
    company_name  NVARCHAR(300)     NOT NULL,
    domain        NVARCHAR(2048)    NULL,
    country       CHAR(2)           NULL,
    verdict       VARCHAR(16)       NULL,
    outcome       VARCHAR(32)       NOT NULL,
    checked_at    DATETIMEOFFSET(7) NOT NULL
);
CREATE INDEX ix_partner_conflict_checks_partner ON dbo.partner_conflict_checks (partner_id, checked_at);
