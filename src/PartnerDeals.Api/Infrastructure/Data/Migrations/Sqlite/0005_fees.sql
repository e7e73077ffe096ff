-- Fees a partner earns on its registrations, accrued by the terms snapshotted at approval.

CREATE TABLE fees (
    id                TEXT    NOT NULL PRIMARY KEY,
    registration_id   TEXT    NOT NULL REFERENCES registrations (id),
    partner_id        TEXT    NOT NULL REFERENCES partners (id),
    -- qualified_introduction or closed_won: what earned it; a registration earns each at most once.
    fee_trigger       TEXT    NOT NULL,
    fee_model         TEXT    NOT NULL,
    basis_amount      NUMERIC NULL,
    fee_percent       NUMERIC NULL,
    amount            NUMERIC NOT NULL,
    currency          TEXT    NOT NULL,
    accrued_at        TEXT    NOT NULL,
    due_at            TEXT    NOT NULL,
    paid_at           TEXT    NULL,
    paid_by_key_id    TEXT    NULL,
    payment_reference TEXT    NULL,
    CONSTRAINT uq_fees_registration_trigger UNIQUE (registration_id, fee_trigger)
);
CREATE INDEX ix_fees_partner_accrued ON fees (partner_id, accrued_at);
