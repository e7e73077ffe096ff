-- Partner webhooks: a partner's endpoints, the events recorded for a partner that has any, one delivery
-- per event and endpoint (leased like the CRM sync's), every attempt; and the Data Protection key ring
-- that protects the endpoints' signing secrets, shared by every instance.

CREATE TABLE webhook_subscriptions (
    id                        TEXT    NOT NULL PRIMARY KEY,
    partner_id                TEXT    NOT NULL REFERENCES partners (id),
    url                       TEXT    NOT NULL,
    -- A JSON array of event names, or ["*"].
    events                    TEXT    NOT NULL,
    description               TEXT    NULL,
    enabled                   INTEGER NOT NULL,
    disabled_reason           TEXT    NULL,
    disabled_at               TEXT    NULL,
    -- Protected with ASP.NET Core Data Protection; never stored in the clear.
    secret                    TEXT    NOT NULL,
    previous_secret           TEXT    NULL,
    previous_secret_until     TEXT    NULL,
    -- The first failed attempt since the last delivered one.
    failing_since             TEXT    NULL,
    version                   INTEGER NOT NULL,
    created_at                TEXT    NOT NULL,
    updated_at                TEXT    NOT NULL
);
CREATE INDEX ix_webhook_subscriptions_partner ON webhook_subscriptions (partner_id, id);

CREATE TABLE webhook_events (
    id              TEXT NOT NULL PRIMARY KEY,
    partner_id      TEXT NOT NULL,
    registration_id TEXT NULL,
    event_type      TEXT NOT NULL,
    -- The body as sent: {type, timestamp, data}.
    payload         TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    -- Set for events sent once per state (a protection window's expiring notice).
    notice_key      TEXT NULL
);
CREATE INDEX ix_webhook_events_partner ON webhook_events (partner_id, occurred_at);
CREATE UNIQUE INDEX uq_webhook_events_notice ON webhook_events (notice_key) WHERE notice_key IS NOT NULL;

CREATE TABLE webhook_deliveries (
    id               TEXT    NOT NULL PRIMARY KEY,
    event_id         TEXT    NOT NULL REFERENCES webhook_events (id),
    subscription_id  TEXT    NOT NULL REFERENCES webhook_subscriptions (id),
    -- Deliveries of one registration to one endpoint go in id order.
    registration_id  TEXT    NULL,
    event_type       TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT    NOT NULL,
    locked_until     TEXT    NULL,
    lease_id         TEXT    NULL,
    last_status_code INTEGER NULL,
    last_error       TEXT    NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    delivered_at     TEXT    NULL
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_order ON webhook_deliveries (subscription_id, registration_id, status, id);
CREATE INDEX ix_webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

CREATE TABLE webhook_attempts (
    id            TEXT    NOT NULL PRIMARY KEY,
    delivery_id   TEXT    NOT NULL REFERENCES webhook_deliveries (id),
    outcome       TEXT    NOT NULL,
    status_code   INTEGER NULL,
    error         TEXT    NULL,
    -- The first 1 KiB of the receiver's answer.
    response      TEXT    NULL,
    started_at    TEXT    NOT NULL,
    latency_ms    INTEGER NOT NULL
);
CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

CREATE TABLE data_protection_keys (
    friendly_name TEXT NOT NULL PRIMARY KEY,
    xml           TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
