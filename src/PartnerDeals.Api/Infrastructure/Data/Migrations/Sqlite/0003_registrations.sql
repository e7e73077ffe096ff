-- Deal registrations and everything decided about them: conflicts with their candidates,
-- protection extensions, the notes thread, idempotency keys and the outbox the CRM sync delivers.

CREATE TABLE registrations (
    id                    TEXT    NOT NULL PRIMARY KEY,
    seq                   INTEGER NOT NULL,
    partner_id            TEXT    NOT NULL REFERENCES partners (id),
    status                TEXT    NOT NULL,
    verdict               TEXT    NOT NULL,
    reason                TEXT    NOT NULL,
    company_name          TEXT    NOT NULL,
    company_website       TEXT    NULL,
    company_domain        TEXT    NULL,
    country               TEXT    NOT NULL,
    industry              TEXT    NULL,
    employee_count        INTEGER NULL,
    contact_name          TEXT    NOT NULL,
    contact_email         TEXT    NOT NULL,
    contact_title         TEXT    NULL,
    deal_name             TEXT    NOT NULL,
    products              TEXT    NOT NULL,
    estimated_value       NUMERIC NOT NULL,
    currency              TEXT    NOT NULL,
    expected_close_date   TEXT    NULL,
    deal_notes            TEXT    NULL,
    relationship_owner    TEXT    NOT NULL,
    demo_owner            TEXT    NOT NULL,
    contract_owner        TEXT    NOT NULL,
    co_sell               INTEGER NOT NULL,
    name_key              TEXT    NOT NULL,
    name_acronym          TEXT    NOT NULL,
    name_tokens           TEXT    NOT NULL,
    icp_qualified         INTEGER NOT NULL,
    icp_failed_rule       TEXT    NULL,
    policy_version        TEXT    NOT NULL,
    rejection_reason      TEXT    NULL,
    decision_note         TEXT    NULL,
    protection_expires_at TEXT    NULL,
    extensions_granted    INTEGER NOT NULL,
    terms_tier            TEXT    NULL,
    terms_fee_model       TEXT    NULL,
    terms_fee_percent     NUMERIC NULL,
    terms_fee_amount      NUMERIC NULL,
    terms_fee_currency    TEXT    NULL,
    terms_fee_trigger     TEXT    NULL,
    terms_payment_net_days INTEGER NULL,
    terms_protection_days INTEGER NULL,
    outcome_amount        NUMERIC NULL,
    outcome_currency      TEXT    NULL,
    closed_at             TEXT    NULL,
    lost_reason           TEXT    NULL,
    submitted_at          TEXT    NOT NULL,
    decided_at            TEXT    NULL,
    created_by_key_id     TEXT    NULL,
    version               INTEGER NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL
);
-- seq is the order of submission, assigned inside the decision transaction: precedence among claims.
CREATE UNIQUE INDEX ux_registrations_seq ON registrations (seq);
CREATE INDEX ix_registrations_partner ON registrations (partner_id, id);
CREATE INDEX ix_registrations_status ON registrations (status, id);
CREATE INDEX ix_registrations_company_domain ON registrations (company_domain) WHERE company_domain IS NOT NULL;
CREATE INDEX ix_registrations_name_key ON registrations (name_key);
CREATE INDEX ix_registrations_name_acronym ON registrations (name_acronym) WHERE name_acronym <> '';
CREATE INDEX ix_registrations_protection ON registrations (status, protection_expires_at);

CREATE TABLE registration_tokens (
    token           TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    PRIMARY KEY (token, registration_id)
) WITHOUT ROWID;

CREATE TABLE conflicts (
    id                 TEXT    NOT NULL PRIMARY KEY,
    registration_id    TEXT    NOT NULL REFERENCES registrations (id),
    status             TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    verdict            TEXT    NOT NULL,
    score              NUMERIC NOT NULL,
    policy_version     TEXT    NOT NULL,
    resolution         TEXT    NULL,
    resolution_note    TEXT    NULL,
    resolved_by_key_id TEXT    NULL,
    resolved_at        TEXT    NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);
CREATE INDEX ix_conflicts_registration ON conflicts (registration_id, id);
CREATE INDEX ix_conflicts_status ON conflicts (status, id);

CREATE TABLE conflict_candidates (
    conflict_id  TEXT    NOT NULL REFERENCES conflicts (id),
    candidate_id TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    score        NUMERIC NOT NULL,
    verdict      TEXT    NOT NULL,
    signals      TEXT    NOT NULL,
    PRIMARY KEY (conflict_id, candidate_id)
) WITHOUT ROWID;
CREATE INDEX ix_conflict_candidates_candidate ON conflict_candidates (candidate_id);

CREATE TABLE extension_requests (
    id              TEXT    NOT NULL PRIMARY KEY,
    registration_id TEXT    NOT NULL REFERENCES registrations (id),
    status          TEXT    NOT NULL,
    days            INTEGER NOT NULL,
    reason          TEXT    NULL,
    decision_note   TEXT    NULL,
    requested_at    TEXT    NOT NULL,
    decided_at      TEXT    NULL
);
CREATE INDEX ix_extension_requests_registration ON extension_requests (registration_id, id);

CREATE TABLE registration_notes (
    id              TEXT    NOT NULL PRIMARY KEY,
    registration_id TEXT    NOT NULL REFERENCES registrations (id),
    author_key_id   TEXT    NULL,
    author_role     TEXT    NOT NULL,
    internal        INTEGER NOT NULL,
    body            TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE INDEX ix_registration_notes_registration ON registration_notes (registration_id, id);

-- A retried POST finds its first answer here; the scope is the partner (or the vendor key) that sent it.
CREATE TABLE idempotency_keys (
    scope           TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    status_code     INTEGER NOT NULL,
    resource_id     TEXT    NOT NULL,
    response_body   TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
) WITHOUT ROWID;

-- Written in the same transaction as the change it describes; the CRM sync delivers it.
CREATE TABLE outbox (
    id              TEXT NOT NULL PRIMARY KEY,
    registration_id TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    occurred_at     TEXT NOT NULL
);
CREATE INDEX ix_outbox_registration ON outbox (registration_id, id);
