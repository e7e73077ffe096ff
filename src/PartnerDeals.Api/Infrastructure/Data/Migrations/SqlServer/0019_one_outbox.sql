-- One outbox for everything PartnerDeals tells the outside world: the CRM sync's changes (0004) and the partner
-- webhooks' events (0013) move into one table of events, one of deliveries — each to one destination of one channel:
-- a CRM by its name, a webhook endpoint by its id — and one of attempts. Every row moves as it is, leases included,
-- so an undelivered change or event is delivered after the upgrade as it would have been before.

CREATE TABLE dbo.outbox_events (
    id              CHAR(36)          NOT NULL CONSTRAINT pk_outbox_events PRIMARY KEY,
    -- The partner a partner event is for; null for the vendor's own (a change the CRMs are sent).
    partner_id      CHAR(36)          NULL,
    registration_id CHAR(36)          NULL,
    event_type      NVARCHAR(64)      NOT NULL,
    -- The body as its destinations read it: {action, occurredAt, registration} for a CRM, {type, timestamp, data} for a webhook.
    payload         NVARCHAR(MAX)     NOT NULL,
    occurred_at     DATETIMEOFFSET(7) NOT NULL,
    -- Set for events sent once per state (a protection window's expiring notice).
    notice_key      NVARCHAR(200)     NULL
);

INSERT INTO dbo.outbox_events (id, partner_id, registration_id, event_type, payload, occurred_at, notice_key)
SELECT id, NULL, registration_id, event_type, payload, occurred_at, NULL FROM dbo.outbox;
INSERT INTO dbo.outbox_events (id, partner_id, registration_id, event_type, payload, occurred_at, notice_key)
SELECT id, partner_id, registration_id, event_type, payload, occurred_at, notice_key FROM dbo.webhook_events;

CREATE TABLE dbo.outbox_deliveries (
    id                   CHAR(36)          NOT NULL CONSTRAINT pk_outbox_deliveries PRIMARY KEY,
    event_id             CHAR(36)          NOT NULL CONSTRAINT fk_outbox_deliveries_event REFERENCES dbo.outbox_events (id),
    -- crm or webhook: which sender delivers it.
    channel              NVARCHAR(16)      NOT NULL,
    -- The CRM's name, or the webhook endpoint's id.
    destination          NVARCHAR(64)      NOT NULL,
    -- The partner whose endpoint it goes to (webhooks): no partner's endpoints take every slot.
    partner_id           CHAR(36)          NULL,
    registration_id      CHAR(36)          NULL,
    -- Deliveries of one registration to one destination go in (registration_version, id) order.
    registration_version INT               NOT NULL,
    event_type           NVARCHAR(64)      NOT NULL,
    status               NVARCHAR(16)      NOT NULL,
    attempts             INT               NOT NULL,
    next_attempt_at      DATETIMEOFFSET(7) NOT NULL,
    locked_until         DATETIMEOFFSET(7) NULL,
    lease_id             CHAR(36)          NULL,
    last_status_code     INT               NULL,
    last_error           NVARCHAR(2000)    NULL,
    created_at           DATETIMEOFFSET(7) NOT NULL,
    updated_at           DATETIMEOFFSET(7) NOT NULL,
    delivered_at         DATETIMEOFFSET(7) NULL
);

INSERT INTO dbo.outbox_deliveries (id, event_id, channel, destination, partner_id, registration_id, registration_version, event_type, status,
    attempts, next_attempt_at, locked_until, lease_id, last_status_code, last_error, created_at, updated_at, delivered_at)
SELECT id, outbox_id, 'crm', crm, NULL, registration_id, registration_version, event_type, status,
    attempts, next_attempt_at, locked_until, lease_id, last_status_code, last_error, created_at, updated_at, delivered_at
FROM dbo.deliveries;
INSERT INTO dbo.outbox_deliveries (id, event_id, channel, destination, partner_id, registration_id, registration_version, event_type, status,
    attempts, next_attempt_at, locked_until, lease_id, last_status_code, last_error, created_at, updated_at, delivered_at)
SELECT d.id, d.event_id, 'webhook', d.subscription_id, s.partner_id, d.registration_id, 0, d.event_type, d.status,
    d.attempts, d.next_attempt_at, d.locked_until, d.lease_id, d.last_status_code, d.last_error, d.created_at, d.updated_at, d.delivered_at
FROM dbo.webhook_deliveries d JOIN dbo.webhook_subscriptions s ON s.id = d.subscription_id;

CREATE TABLE dbo.outbox_attempts (
    id          CHAR(36)          NOT NULL CONSTRAINT pk_outbox_attempts PRIMARY KEY,
    delivery_id CHAR(36)          NOT NULL CONSTRAINT fk_outbox_attempts_delivery REFERENCES dbo.outbox_deliveries (id),
    outcome     NVARCHAR(16)      NOT NULL,
    status_code INT               NULL,
    error       NVARCHAR(2000)    NULL,
    -- The first 1 KiB of a webhook receiver's answer.
    response    NVARCHAR(1100)    NULL,
    started_at  DATETIMEOFFSET(7) NOT NULL,
    duration_ms INT               NOT NULL
);

INSERT INTO dbo.outbox_attempts (id, delivery_id, outcome, status_code, error, response, started_at, duration_ms)
SELECT id, delivery_id, outcome, status_code, error, NULL, started_at, duration_ms FROM dbo.delivery_attempts;
INSERT INTO dbo.outbox_attempts (id, delivery_id, outcome, status_code, error, response, started_at, duration_ms)
SELECT id, delivery_id, outcome, status_code, error, response, started_at, latency_ms FROM dbo.webhook_attempts;

DROP TABLE dbo.delivery_attempts;
DROP TABLE dbo.deliveries;
DROP TABLE dbo.outbox;
DROP TABLE dbo.webhook_attempts;
DROP TABLE dbo.webhook_deliveries;
DROP TABLE dbo.webhook_events;

CREATE INDEX ix_outbox_events_partner ON dbo.outbox_events (partner_id, occurred_at);
CREATE UNIQUE INDEX uq_outbox_events_notice ON dbo.outbox_events (notice_key) WHERE notice_key IS NOT NULL;
-- Each destination's due deliveries are one seek (lease included), however many another destination has queued.
CREATE INDEX ix_outbox_deliveries_due ON dbo.outbox_deliveries (destination, status, next_attempt_at, locked_until);
CREATE INDEX ix_outbox_deliveries_order ON dbo.outbox_deliveries (destination, registration_id, status, registration_version, id);
CREATE INDEX ix_outbox_deliveries_destination ON dbo.outbox_deliveries (destination, id);
CREATE INDEX ix_outbox_deliveries_status ON dbo.outbox_deliveries (channel, status, destination, created_at);
CREATE INDEX ix_outbox_deliveries_registration ON dbo.outbox_deliveries (registration_id, id);
CREATE INDEX ix_outbox_deliveries_event ON dbo.outbox_deliveries (event_id, destination);
CREATE INDEX ix_outbox_attempts_delivery ON dbo.outbox_attempts (delivery_id, id);
