-- CRM sync: one delivery per outbox row and enabled CRM, leased by the dispatcher that works on it,
-- and every attempt made to deliver it.

CREATE TABLE deliveries (
    id                   TEXT    NOT NULL PRIMARY KEY,
    outbox_id            TEXT    NOT NULL REFERENCES outbox (id),
    registration_id      TEXT    NOT NULL,
    -- The registration's version after the change: deliveries of one registration go in this order.
    registration_version INTEGER NOT NULL,
    crm                  TEXT    NOT NULL,
    event_type           TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    attempts             INTEGER NOT NULL,
    next_attempt_at      TEXT    NOT NULL,
    locked_until         TEXT    NULL,
    lease_id             TEXT    NULL,
    last_status_code     INTEGER NULL,
    last_error           TEXT    NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    delivered_at         TEXT    NULL,
    CONSTRAINT uq_deliveries_outbox_crm UNIQUE (outbox_id, crm)
);
CREATE INDEX ix_deliveries_due ON deliveries (crm, status, next_attempt_at);
CREATE INDEX ix_deliveries_registration ON deliveries (registration_id, crm, registration_version);
CREATE INDEX ix_deliveries_status ON deliveries (status, crm, created_at);

CREATE TABLE delivery_attempts (
    id           TEXT    NOT NULL PRIMARY KEY,
    delivery_id  TEXT    NOT NULL REFERENCES deliveries (id),
    outcome      TEXT    NOT NULL,
    status_code  INTEGER NULL,
    error        TEXT    NULL,
    started_at   TEXT    NOT NULL,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX ix_delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
