-- Partner webhooks: a partner's endpoints, the events recorded for a partner that has any, one delivery
-- per event and endpoint (leased like the CRM sync's), every attempt; and the Data Protection key ring
-- that protects the endpoints' signing secrets, shared by every instance.

CREATE TABLE dbo.webhook_subscriptions (
    id                    CHAR(36)          NOT NULL CONSTRAINT pk_webhook_subscriptions PRIMARY KEY,
    partner_id            CHAR(36)          NOT NULL CONSTRAINT fk_webhook_subscriptions_partner REFERENCES dbo.partners (id),
    url                   NVARCHAR(2000)    NOT NULL,
    -- A JSON array of event names, or ["*"].
    events                NVARCHAR(2000)    NOT NULL,
    description           NVARCHAR(500)     NULL,
    enabled               BIT               NOT NULL,
    disabled_reason       NVARCHAR(64)      NULL,
    disabled_at           DATETIMEOFFSET(7) NULL,
    -- Protected with ASP.NET Core Data Protection; never stored in the clear.
    secret                NVARCHAR(1000)    NOT NULL,
    previous_secret       NVARCHAR(1000)    NULL,
    previous_secret_until DATETIMEOFFSET(7) NULL,
    -- The first failed attempt since the last delivered one.
    failing_since         DATETIMEOFFSET(7) NULL,
    version               INT               NOT NULL,
    created_at            DATETIMEOFFSET(7) NOT NULL,
    updated_at            DATETIMEOFFSET(7) NOT NULL
);
CREATE INDEX ix_webhook_subscriptions_partner ON dbo.webhook_subscriptions (partner_id, id);

CREATE TABLE dbo.webhook_events (
    id              CHAR(36)          NOT NULL CONSTRAINT pk_webhook_events PRIMARY KEY,
    partner_id      CHAR(36)          NOT NULL,
    registration_id CHAR(36)          NULL,
    event_type      NVARCHAR(64)      NOT NULL,
    -- The body as sent: {type, timestamp, data}.
    payload         NVARCHAR(MAX)     NOT NULL,
    occurred_at     DATETIMEOFFSET(7) NOT NULL,
    -- Set for events sent once per state (a protection window's expiring notice).
    notice_key      NVARCHAR(200)     NULL
);
CREATE INDEX ix_webhook_events_partner ON dbo.webhook_events (partner_id, occurred_at);
CREATE UNIQUE INDEX uq_webhook_events_notice ON dbo.webhook_events (notice_key) WHERE notice_key IS NOT NULL;

CREATE TABLE dbo.webhook_deliveries (
    id               CHAR(36)          NOT NULL CONSTRAINT pk_webhook_deliveries PRIMARY KEY,
    event_id         CHAR(36)          NOT NULL CONSTRAINT fk_webhook_deliveries_event REFERENCES dbo.webhook_events (id),
    subscription_id  CHAR(36)          NOT NULL CONSTRAINT fk_webhook_deliveries_subscription REFERENCES dbo.webhook_subscriptions (id),
    -- Deliveries of one registration to one endpoint go in id order.
    registration_id  CHAR(36)          NULL,
    event_type       NVARCHAR(64)      NOT NULL,
    status           NVARCHAR(16)      NOT NULL,
    attempts         INT               NOT NULL,
    next_attempt_at  DATETIMEOFFSET(7) NOT NULL,
    locked_until     DATETIMEOFFSET(7) NULL,
    lease_id         CHAR(36)          NULL,
    last_status_code INT               NULL,
    last_error       NVARCHAR(2000)    NULL,
    created_at       DATETIMEOFFSET(7) NOT NULL,
    updated_at       DATETIMEOFFSET(7) NOT NULL,
    delivered_at     DATETIMEOFFSET(7) NULL
);
CREATE INDEX ix_webhook_deliveries_due ON dbo.webhook_deliveries (status, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_order ON dbo.webhook_deliveries (subscription_id, registration_id, status, id);
CREATE INDEX ix_webhook_deliveries_subscription ON dbo.webhook_deliveries (subscription_id, id);

CREATE TABLE dbo.webhook_attempts (
    id          CHAR(36)          NOT NULL CONSTRAINT pk_webhook_attempts PRIMARY KEY,
    delivery_id CHAR(36)          NOT NULL CONSTRAINT fk_webhook_attempts_delivery REFERENCES dbo.webhook_deliveries (id),
    outcome     NVARCHAR(16)      NOT NULL,
    status_code INT               NULL,
    error       NVARCHAR(2000)    NULL,
    -- The first 1 KiB of the receiver's answer.
    response    NVARCHAR(1100)    NULL,
    started_at  DATETIMEOFFSET(7) NOT NULL,
    latency_ms  INT               NOT NULL
);
CREATE INDEX ix_webhook_attempts_delivery ON dbo.webhook_attempts (delivery_id, id);

CREATE TABLE dbo.data_protection_keys (
    friendly_name NVARCHAR(200)     NOT NULL CONSTRAINT pk_data_protection_keys PRIMARY KEY,
    xml           NVARCHAR(MAX)     NOT NULL,
    created_at    DATETIMEOFFSET(7) NOT NULL
);
