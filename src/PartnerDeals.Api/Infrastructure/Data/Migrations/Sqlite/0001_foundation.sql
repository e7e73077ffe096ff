-- Partners, API keys and the audit trail. Ids are UUIDv7 text; instants are UTC ISO-8601 text.

CREATE TABLE partners (
    id                TEXT    NOT NULL PRIMARY KEY,
    name              TEXT    NOT NULL,
    name_key          TEXT    NOT NULL,
    type              TEXT    NOT NULL,
    tier              TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    contact_email     TEXT    NOT NULL,
    fee_model         TEXT    NOT NULL,
    fee_percent       NUMERIC NULL,
    fee_amount        NUMERIC NULL,
    fee_currency      TEXT    NULL,
    fee_trigger       TEXT    NOT NULL,
    payment_net_days  INTEGER NOT NULL,
    protection_days   INTEGER NOT NULL,
    exclusive         INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_partners_name_key ON partners (name_key);
CREATE INDEX ix_partners_type ON partners (type, id);
CREATE INDEX ix_partners_tier ON partners (tier, id);
CREATE INDEX ix_partners_status ON partners (status, id);

CREATE TABLE api_keys (
    id           TEXT NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    role         TEXT NOT NULL,
    partner_id   TEXT NULL REFERENCES partners (id),
    created_at   TEXT NOT NULL,
    created_by   TEXT NULL,
    revoked_at   TEXT NULL
);
CREATE INDEX ix_api_keys_prefix ON api_keys (prefix);
CREATE UNIQUE INDEX ux_api_keys_secret_hash ON api_keys (secret_hash);
CREATE INDEX ix_api_keys_partner ON api_keys (partner_id, id);

CREATE TABLE audit_events (
    id           TEXT NOT NULL PRIMARY KEY,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    action       TEXT NOT NULL,
    actor_key_id TEXT NULL,
    actor_role   TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX ix_audit_events_entity ON audit_events (entity_type, entity_id, id);

-- The trail is evidence in disputes about money: no code path may rewrite it.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are immutable');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are immutable');
END;
