-- Money exactly: NUMERIC affinity turns '123456789012.3456' into a REAL of 15 significant digits, so
-- amounts move to TEXT columns holding the decimal as written. Existing values were already reals;
-- they are carried over as they read back today (integers as integers, reals to four places).
-- SQLite cannot change a column's type, so each is renamed, re-added as TEXT, copied and dropped;
-- the indexes that name one are rebuilt around it.
DROP INDEX ix_registrations_closed;
DROP INDEX ix_registrations_partner_closed;
DROP INDEX ix_opportunities_closed;
DROP INDEX ix_fees_accrued;

ALTER TABLE partners RENAME COLUMN fee_amount TO fee_amount_real;
ALTER TABLE partners ADD COLUMN fee_amount TEXT NULL;
UPDATE partners SET fee_amount = CASE typeof(fee_amount_real) WHEN 'real' THEN printf('%.4f', fee_amount_real) ELSE CAST(fee_amount_real AS TEXT) END;
ALTER TABLE partners DROP COLUMN fee_amount_real;

ALTER TABLE opportunities RENAME COLUMN amount TO amount_real;
ALTER TABLE opportunities ADD COLUMN amount TEXT NULL;
UPDATE opportunities SET amount = CASE typeof(amount_real) WHEN 'real' THEN printf('%.4f', amount_real) ELSE CAST(amount_real AS TEXT) END
WHERE amount_real IS NOT NULL;
ALTER TABLE opportunities DROP COLUMN amount_real;

ALTER TABLE registrations RENAME COLUMN estimated_value TO estimated_value_real;
ALTER TABLE registrations RENAME COLUMN terms_fee_amount TO terms_fee_amount_real;
ALTER TABLE registrations RENAME COLUMN outcome_amount TO outcome_amount_real;
ALTER TABLE registrations ADD COLUMN estimated_value TEXT NOT NULL DEFAULT '0';
ALTER TABLE registrations ADD COLUMN terms_fee_amount TEXT NULL;
ALTER TABLE registrations ADD COLUMN outcome_amount TEXT NULL;
UPDATE registrations SET
    estimated_value = CASE typeof(estimated_value_real) WHEN 'real' THEN printf('%.4f', estimated_value_real) ELSE CAST(estimated_value_real AS TEXT) END,
    terms_fee_amount = CASE typeof(terms_fee_amount_real) WHEN 'real' THEN printf('%.4f', terms_fee_amount_real) ELSE CAST(terms_fee_amount_real AS TEXT) END,
    outcome_amount = CASE typeof(outcome_amount_real) WHEN 'real' THEN printf('%.4f', outcome_amount_real) ELSE CAST(outcome_amount_real AS TEXT) END;
ALTER TABLE registrations DROP COLUMN estimated_value_real;
ALTER TABLE registrations DROP COLUMN terms_fee_amount_real;
ALTER TABLE registrations DROP COLUMN outcome_amount_real;

ALTER TABLE fees RENAME COLUMN basis_amount TO basis_amount_real;
ALTER TABLE fees RENAME COLUMN amount TO amount_real;
ALTER TABLE fees ADD COLUMN basis_amount TEXT NULL;
ALTER TABLE fees ADD COLUMN amount TEXT NOT NULL DEFAULT '0';
UPDATE fees SET
    basis_amount = CASE typeof(basis_amount_real) WHEN 'real' THEN printf('%.4f', basis_amount_real) ELSE CAST(basis_amount_real AS TEXT) END,
    amount = CASE typeof(amount_real) WHEN 'real' THEN printf('%.4f', amount_real) ELSE CAST(amount_real AS TEXT) END;
ALTER TABLE fees DROP COLUMN basis_amount_real;
ALTER TABLE fees DROP COLUMN amount_real;

CREATE INDEX ix_registrations_closed ON registrations (closed_at, partner_id, status, outcome_currency, outcome_amount, submitted_at)
    WHERE closed_at IS NOT NULL;
CREATE INDEX ix_registrations_partner_closed ON registrations (partner_id, closed_at, status, outcome_currency, outcome_amount, submitted_at)
    WHERE closed_at IS NOT NULL;
CREATE INDEX ix_opportunities_closed ON opportunities (close_date, currency, amount, opened_date, created_at) WHERE status = 'won';
CREATE INDEX ix_fees_accrued ON fees (accrued_at, partner_id, currency, amount);

-- What the partner sees moves on its own version: a change only vendor keys see (a competing claim
-- withdrawn, a conflict re-recorded) leaves the partner's ETag and updatedAt as they were.
ALTER TABLE registrations ADD COLUMN partner_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE registrations ADD COLUMN partner_updated_at TEXT NULL;
UPDATE registrations SET partner_version = version, partner_updated_at = updated_at;

-- Every conflict pre-check a partner key ran: the quota counts them, ops read them.
CREATE TABLE partner_conflict_checks (
    id            TEXT    NOT NULL PRIMARY KEY,
    partner_id    TEXT    NOT NULL REFERENCES partners (id),
    key_id        TEXT    NOT NULL,
    company_name  TEXT    NOT NULL,
    domain        TEXT    NULL,
    country       TEXT    NULL,
    -- The verdict the matcher reached (ops see it); the partner was told only available or not.
    verdict       TEXT    NULL,
    -- answered, or refused_per_minute / refused_per_day when the quota stopped it.
    outcome       TEXT    NOT NULL,
    checked_at    TEXT    NOT NULL
);
CREATE INDEX ix_partner_conflict_checks_partner ON partner_conflict_checks (partner_id, checked_at);
