-- What partner metrics and program health read by period. approved_at is the registration's latest
-- approval (decided_at moves on at a later decision); opened_date is the day the CRM opened an
-- opportunity, so the direct pipeline's time to close does not start at the day it was imported.

ALTER TABLE registrations ADD COLUMN approved_at TEXT NULL;
-- Terms are snapshotted only at approval, and decided_at stayed that approval unless a later decision moved it.
UPDATE registrations SET approved_at = decided_at
WHERE terms_tier IS NOT NULL AND status IN ('approved', 'won', 'lost', 'expired', 'withdrawn');

ALTER TABLE opportunities ADD COLUMN opened_date TEXT NULL;

-- Each period query reads one of these ranges and nothing else: time first for every partner, partner first for one.
CREATE INDEX ix_registrations_submitted ON registrations (submitted_at, partner_id, icp_qualified);
CREATE INDEX ix_registrations_partner_submitted ON registrations (partner_id, submitted_at, icp_qualified);
CREATE INDEX ix_registrations_approved ON registrations (approved_at, partner_id, status, closed_at) WHERE approved_at IS NOT NULL;
CREATE INDEX ix_registrations_partner_approved ON registrations (partner_id, approved_at, status, closed_at) WHERE approved_at IS NOT NULL;
CREATE INDEX ix_registrations_decided ON registrations (decided_at, partner_id, submitted_at) WHERE decided_at IS NOT NULL;
CREATE INDEX ix_registrations_partner_decided ON registrations (partner_id, decided_at, submitted_at) WHERE decided_at IS NOT NULL;
CREATE INDEX ix_registrations_closed ON registrations (closed_at, partner_id, status, outcome_currency, outcome_amount, submitted_at)
    WHERE closed_at IS NOT NULL;
CREATE INDEX ix_registrations_partner_closed ON registrations (partner_id, closed_at, status, outcome_currency, outcome_amount, submitted_at)
    WHERE closed_at IS NOT NULL;
CREATE INDEX ix_opportunities_closed ON opportunities (status, close_date, currency, amount, opened_date, created_at);
CREATE INDEX ix_fees_accrued ON fees (accrued_at, partner_id, currency, amount);
