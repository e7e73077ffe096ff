-- A decision's note is internal unless ops share it with the partner. Notes written before were all shown; only a
-- request for information was meant for the partner, so only those stay shared.
ALTER TABLE registrations ADD COLUMN decision_note_shared INTEGER NOT NULL DEFAULT 0;
UPDATE registrations SET decision_note_shared = 1 WHERE status = 'more_info_requested' AND decision_note IS NOT NULL;

-- The products a won deal sold (a JSON array, null when the outcome named none): the fee follows their lines.
ALTER TABLE registrations ADD COLUMN outcome_products TEXT NULL;

-- A partner's own check quota (pre-checks, registrations and company-changing edits); null takes the settings.
ALTER TABLE partners ADD COLUMN check_quota_per_minute INTEGER NULL;
ALTER TABLE partners ADD COLUMN check_quota_per_day INTEGER NULL;

-- One quota for everything a partner asks: the log names what asked (a pre-check, a registration or a company-changing
-- edit) and the registration it decided.
ALTER TABLE partner_conflict_checks ADD COLUMN asked_by TEXT NOT NULL DEFAULT 'pre_check';
ALTER TABLE partner_conflict_checks ADD COLUMN registration_id TEXT NULL;

-- Fair webhook delivery: each endpoint's due deliveries are one seek, however many another endpoint has queued.
CREATE INDEX ix_webhook_deliveries_endpoint_due ON webhook_deliveries (subscription_id, status, next_attempt_at);

-- A partner's answered checks per minute: what its quota counts, in at most 1,440 rows a day however large the quota
-- (the log above keeps every check for ops).
CREATE TABLE partner_check_minutes (
    partner_id TEXT    NOT NULL REFERENCES partners (id),
    minute     TEXT    NOT NULL,
    answered   INTEGER NOT NULL,
    PRIMARY KEY (partner_id, minute)
);
