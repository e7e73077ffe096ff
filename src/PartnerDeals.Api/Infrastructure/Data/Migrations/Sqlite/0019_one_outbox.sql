-- One outbox for everything PartnerDeals tells the outside world: the CRM sync's changes (0004) and the partner
-- webhooks' events (0013) move into one table of events, one of deliveries — each to one destination of one channel:
-- a CRM by its name, a webhook endpoint by its id — and one of attempts. Every row moves as it is, leases included,
-- so an undelivered change or event is delivered after the upgrade as it would have been before.

CREATE TABLE outbox_events (
    id              TEXT NOT NULL PRIMARY KEY,
    -- The partner a partner event is for; null for the vendor's own (a change the CRMs are sent).
    partner_id      TEXT NULL,
    registration_id TEXT NULL,
    event_type      TEXT NOT NULL,
    -- The body as its destinations read it: {action, occurredAt, registration} for a CRM, {type, timestamp, data} for a webhook.
    payload         TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    -- Set for events sent once per state (a protection window's expiring notice).
    notice_key      TEXT NULL
);

INSERT INTO outbox_events (id, partner_id, registration_id, event_type, payload, occurred_at, notice_key)
SELECT id, NULL, registration_id, event_type, payload, occurred_at, NULL FROM outbox;
INSERT INTO outbox_events (id, partner_id, registration_id, event_type, payload, occurred_at, notice_key)
SELECT id, partner_id, registration_id, event_type, payload, occurred_at, notice_key FROM webhook_events;

CREATE TABLE outbox_deliveries (
    id                   TEXT    NOT NULL PRIMARY KEY,
    event_id             TEXT    NOT NULL REFERENCES outbox_events (id),
    -- crm or webhook: which sender delivers it.
    channel              TEXT    NOT NULL,
    -- The CRM's name, or the webhook endpoint's id.
    destination          TEXT    NOT NULL,
    -- The partner whose endpoint it goes to (webhooks): no partner's endpoints take every slot.
    partner_id           TEXT    NULL,
    registration_id      TEXT    NULL,
    -- Deliveries of one registration to one destination go in (registration_version, id) order.
    registration_version INTEGER NOT NULL,
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
    delivered_at         TEXT    NULL
);

INSERT INTO outbox_deliveries (id, event_id, channel, destination, partner_id, registration_id, registration_version, event_type, status,
    attempts, next_attempt_at, locked_until, lease_id, last_status_code, last_error, created_at, updated_at, delivered_at)
SELECT id, outbox_id, 'crm', crm, NULL, registration_id, registration_version, event_type, status,
    attempts, next_attempt_at, locked_until, lease_id, last_status_code, last_error, created_at, updated_at, delivered_at
FROM deliveries;
INSERT INTO outbox_deliveries (id, event_id, channel, destination, partner_id, registration_id, registration_version, event_type, status,
    attempts, next_attempt_at, locked_until, lease_id, last_status_code, last_error, created_at, updated_at, delivered_at)
SELECT d.id, d.event_id, 'webhook', d.subscription_id, s.partner_id, d.registration_id, 0, d.event_type, d.status,
    d.attempts, d.next_attempt_at, d.locked_until, d.lease_id, d.last_status_code, d.last_error, d.created_at, d.updated_at, d.delivered_at
FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id;

CREATE TABLE outbox_attempts (
    id          TEXT    NOT NULL PRIMARY KEY,
    delivery_id TEXT    NOT NULL REFERENCES outbox_deliveries (id),
    outcome     TEXT    NOT NULL,
    status_code INTEGER NULL,
    error       TEXT    NULL,
    -- The first 1 KiB of a webhook receiver's answer.
    response    TEXT    NULL,
    started_at  TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL
);

INSERT INTO outbox_attempts (id, delivery_id, outcome, status_code, error, response, started_at, duration_ms)
SELECT id, delivery_id, outcome, status_code, error, NULL, started_at, duration_ms FROM delivery_attempts;
INSERT INTO outbox_attempts (id, delivery_id, outcome, status_code, error, response, started_at, duration_ms)
SELECT id, delivery_id, outcome, status_code, error, response, started_at, latency_ms FROM webhook_attempts;

DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE outbox;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;

CREATE INDEX ix_outbox_events_partner ON outbox_events (partner_id, occurred_at);
CREATE UNIQUE INDEX uq_outbox_events_notice ON outbox_events (notice_key) WHERE notice_key IS NOT NULL;
-- Each destination's due deliveries are one seek (lease included), however many another destination has queued.
CREATE INDEX ix_outbox_deliveries_due ON outbox_deliveries (destination, status, next_attempt_at, locked_until);
CREATE INDEX ix_outbox_deliveries_order ON outbox_deliveries (destination, registration_id, status, registration_version, id);
CREATE INDEX ix_outbox_deliveries_destination ON outbox_deliveries (destination, id);
CREATE INDEX ix_outbox_deliveries_status ON outbox_deliveries (channel, status, destination, created_at);
CREATE INDEX ix_outbox_deliveries_registration ON outbox_deliveries (registration_id, id);
CREATE INDEX ix_outbox_deliveries_event ON outbox_deliveries (event_id, destination);
CREATE INDEX ix_outbox_attempts_delivery ON outbox_attempts (delivery_id, id);
