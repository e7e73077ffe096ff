-- A distributor and the resellers it supplies: who may register deals for whom, and see them. Ended, never deleted.
CREATE TABLE partner_resellers (
    id                     TEXT    NOT NULL PRIMARY KEY,
    distributor_id         TEXT    NOT NULL REFERENCES partners (id),
    reseller_id            TEXT    NOT NULL REFERENCES partners (id),
    may_register_on_behalf INTEGER NOT NULL,
    may_view_deals         INTEGER NOT NULL,
    started_at             TEXT    NOT NULL,
    ended_at               TEXT    NULL
);
CREATE UNIQUE INDEX ux_partner_resellers_active ON partner_resellers (distributor_id, reseller_id) WHERE ended_at IS NULL;
CREATE INDEX ix_partner_resellers_reseller ON partner_resellers (reseller_id, distributor_id);

-- The distributor that registered a deal for its reseller (the registration's partner); null when the partner did.
ALTER TABLE registrations ADD COLUMN registered_by TEXT NULL;

-- The partners on a registration besides its own (the primary, which has no row): invited, then active, or declined,
-- expired or removed. Members never conflict with each other.
CREATE TABLE registration_members (
    id              TEXT NOT NULL PRIMARY KEY,
    registration_id TEXT NOT NULL REFERENCES registrations (id),
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT NULL,
    invited_at      TEXT NOT NULL,
    expires_at      TEXT NULL,
    decided_at      TEXT NULL,
    -- The member's terms when it became active (JSON): what its share of a win earns by.
    terms           TEXT NULL
);
CREATE UNIQUE INDEX ux_registration_members_current ON registration_members (registration_id, partner_id) WHERE status IN ('invited', 'active');
CREATE INDEX ix_registration_members_partner ON registration_members (partner_id, status, registration_id);

-- A deal's fee split: every version kept, the latest is the split. Shares are exact decimal strings totalling 100; the
-- primary's member id is the registration's own.
CREATE TABLE registration_splits (
    registration_id TEXT    NOT NULL REFERENCES registrations (id),
    version         INTEGER NOT NULL,
    member_id       TEXT    NOT NULL,
    partner_id      TEXT    NOT NULL REFERENCES partners (id),
    share           TEXT    NOT NULL,
    set_at          TEXT    NOT NULL,
    PRIMARY KEY (registration_id, version, member_id)
);

-- A split deal's fees: one per registration, trigger, partner and split version, and a correction reverses a fee by a row
-- of the opposite sign (reverses: the fee it undoes). SQLite cannot drop the old one-per-trigger constraint: the table is
-- rebuilt with every row as it is.
CREATE TABLE fees_split (
    id                TEXT    NOT NULL PRIMARY KEY,
    registration_id   TEXT    NOT NULL REFERENCES registrations (id),
    partner_id        TEXT    NOT NULL REFERENCES partners (id),
    fee_trigger       TEXT    NOT NULL,
    fee_model         TEXT    NOT NULL,
    basis_amount      TEXT    NULL,
    fee_percent       NUMERIC NULL,
    amount            TEXT    NOT NULL,
    currency          TEXT    NOT NULL,
    accrued_at        TEXT    NOT NULL,
    due_at            TEXT    NOT NULL,
    paid_at           TEXT    NULL,
    paid_by_key_id    TEXT    NULL,
    payment_reference TEXT    NULL,
    split_version     INTEGER NOT NULL DEFAULT 0,
    share             TEXT    NULL,
    reverses          TEXT    NOT NULL DEFAULT ''
);
INSERT INTO fees_split (id, registration_id, partner_id, fee_trigger, fee_model, basis_amount, fee_percent, amount, currency, accrued_at, due_at,
    paid_at, paid_by_key_id, payment_reference)
SELECT id, registration_id, partner_id, fee_trigger, fee_model, basis_amount, fee_percent, amount, currency, accrued_at, due_at,
    paid_at, paid_by_key_id, payment_reference
FROM fees;
DROP TABLE fees;
ALTER TABLE fees_split RENAME TO fees;
CREATE UNIQUE INDEX ux_fees_once ON fees (registration_id, fee_trigger, partner_id, split_version, reverses);
CREATE INDEX ix_fees_partner_accrued ON fees (partner_id, accrued_at);
CREATE INDEX ix_fees_accrued ON fees (accrued_at, partner_id, currency, amount);

-- Bulk registration as a job: the batch as uploaded, each row's request and what became of it (its prediction, its outcome,
-- written in the decision that made it), and each partner's external references with the content they were registered with.
CREATE TABLE registration_batches (
    id               TEXT    NOT NULL PRIMARY KEY,
    partner_id       TEXT    NOT NULL REFERENCES partners (id),
    key_id           TEXT    NULL,
    person_id        TEXT    NULL,
    display          TEXT    NULL,
    mode             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    format           TEXT    NOT NULL,
    columns          TEXT    NOT NULL,
    total_rows       INTEGER NOT NULL,
    idempotency_key  TEXT    NULL,
    body_hash        TEXT    NOT NULL,
    stamp            TEXT    NULL,
    error            TEXT    NULL,
    commit_requested INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX ix_registration_batches_state ON registration_batches (state, created_at);
CREATE INDEX ix_registration_batches_partner ON registration_batches (partner_id, state);
CREATE UNIQUE INDEX ux_registration_batches_idempotency ON registration_batches (partner_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE registration_batch_rows (
    batch_id        TEXT    NOT NULL REFERENCES registration_batches (id),
    row_number      INTEGER NOT NULL,
    external_ref    TEXT    NULL,
    cells           TEXT    NOT NULL,
    request         TEXT    NULL,
    content_hash    TEXT    NOT NULL,
    earlier_row     INTEGER NULL,
    prediction      TEXT    NULL,
    outcome         TEXT    NULL,
    reason          TEXT    NULL,
    registration_id TEXT    NULL,
    PRIMARY KEY (batch_id, row_number)
);

CREATE TABLE batch_external_refs (
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    external_ref    TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    PRIMARY KEY (partner_id, external_ref)
);
