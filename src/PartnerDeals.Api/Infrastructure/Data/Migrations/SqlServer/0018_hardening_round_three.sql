-- A decision's note is internal unless ops share it with the partner. Notes written before were all shown; only a
-- request for information was meant for the partner, so only those stay shared.
ALTER TABLE dbo.registrations ADD decision_note_shared BIT NOT NULL CONSTRAINT df_registrations_decision_note_shared DEFAULT 0;
GO
UPDATE dbo.registrations SET decision_note_shared = 1 WHERE status = 'more_info_requested' AND decision_note IS NOT NULL;

-- The products a won deal sold (a JSON array, null when the outcome named none): the fee follows their lines.
ALTER TABLE dbo.registrations ADD outcome_products NVARCHAR(MAX) NULL;

-- A partner's own check quota (pre-checks, registrations and company-changing edits); null takes the settings.
ALTER TABLE dbo.partners ADD check_quota_per_minute INT NULL, check_quota_per_day INT NULL;

-- One quota for everything a partner asks: the log names what asked (a pre-check, a registration or a company-changing
-- edit) and the registration it decided.
ALTER TABLE dbo.partner_conflict_checks ADD asked_by VARCHAR(16) NOT NULL CONSTRAINT df_partner_conflict_checks_asked_by DEFAULT 'pre_check',
    registration_id CHAR(36) NULL;

-- Fair webhook delivery: each endpoint's due deliveries are one seek, however many another endpoint has queued.
CREATE INDEX ix_webhook_deliveries_endpoint_due ON dbo.webhook_deliveries (subscription_id, status, next_attempt_at);

-- A partner's answered checks per minute: what its quota counts, in at most 1,440 rows a day however large the quota
-- (the log above keeps every check for ops).
CREATE TABLE dbo.partner_check_minutes (
    partner_id CHAR(36)          NOT NULL CONSTRAINT fk_partner_check_minutes_partner REFERENCES dbo.partners (id),
    minute     DATETIMEOFFSET(3) NOT NULL,
    answered   INT               NOT NULL,
    CONSTRAINT pk_partner_check_minutes PRIMARY KEY (partner_id, minute)
);
