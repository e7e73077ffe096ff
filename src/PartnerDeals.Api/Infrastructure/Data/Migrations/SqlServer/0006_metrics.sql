-- What partner metrics and program health read by period. approved_at is the registration's latest
-- approval (decided_at moves on at a later decision); opened_date is the day the CRM opened an
-- opportunity, so the direct pipeline's time to close does not start at the day it was imported.

ALTER TABLE dbo.registrations ADD approved_at DATETIMEOFFSET(7) NULL;
ALTER TABLE dbo.opportunities ADD opened_date DATE NULL;
GO

-- Terms are snapshotted only at approval, and decided_at stayed that approval unless a later decision moved it.
UPDATE dbo.registrations SET approved_at = decided_at
WHERE terms_tier IS NOT NULL AND status IN ('approved', 'won', 'lost', 'expired', 'withdrawn');

-- Each period query reads one of these ranges and nothing else: time first for every partner, partner first for one.
CREATE INDEX ix_registrations_submitted ON dbo.registrations (submitted_at, partner_id) INCLUDE (icp_qualified);
CREATE INDEX ix_registrations_partner_submitted ON dbo.registrations (partner_id, submitted_at) INCLUDE (icp_qualified);
CREATE INDEX ix_registrations_approved ON dbo.registrations (approved_at, partner_id) INCLUDE (status, closed_at) WHERE approved_at IS NOT NULL;
CREATE INDEX ix_registrations_partner_approved ON dbo.registrations (partner_id, approved_at) INCLUDE (status, closed_at) WHERE approved_at IS NOT NULL;
CREATE INDEX ix_registrations_decided ON dbo.registrations (decided_at, partner_id) INCLUDE (submitted_at) WHERE decided_at IS NOT NULL;
CREATE INDEX ix_registrations_partner_decided ON dbo.registrations (partner_id, decided_at) INCLUDE (submitted_at) WHERE decided_at IS NOT NULL;
CREATE INDEX ix_registrations_closed ON dbo.registrations (closed_at, partner_id)
    INCLUDE (status, outcome_currency, outcome_amount, submitted_at) WHERE closed_at IS NOT NULL;
CREATE INDEX ix_registrations_partner_closed ON dbo.registrations (partner_id, closed_at)
    INCLUDE (status, outcome_currency, outcome_amount, submitted_at) WHERE closed_at IS NOT NULL;
CREATE INDEX ix_opportunities_closed ON dbo.opportunities (status, close_date) INCLUDE (currency, amount, opened_date, created_at);
CREATE INDEX ix_fees_accrued ON dbo.fees (accrued_at, partner_id) INCLUDE (currency, amount);
