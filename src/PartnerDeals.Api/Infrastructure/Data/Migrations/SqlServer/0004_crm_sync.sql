-- CRM sync: one delivery per outbox row and enabled CRM, leased by the dispatcher that works on it,
-- and every attempt made to deliver it.

CREATE TABLE dbo.deliveries (
    id                   CHAR(36)          NOT NULL CONSTRAINT pk_deliveries PRIMARY KEY,
    outbox_id            CHAR(36)          NOT NULL CONSTRAINT fk_deliveries_outbox REFERENCES dbo.outbox (id),
    registration_id      CHAR(36)          NOT NULL,
    -- The registration's version after the change: deliveries of one registration go in this order.
    registration_version INT               NOT NULL,
    crm                  NVARCHAR(32)      NOT NULL,
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
    delivered_at         DATETIMEOFFSET(7) NULL,
    CONSTRAINT uq_deliveries_outbox_crm UNIQUE (outbox_id, crm)
);
CREATE INDEX ix_deliveries_due ON dbo.deliveries (crm, status, next_attempt_at);
CREATE INDEX ix_deliveries_registration ON dbo.deliveries (registration_id, crm, registration_version);
CREATE INDEX ix_deliveries_status ON dbo.deliveries (status, crm, created_at);

CREATE TABLE dbo.delivery_attempts (
    id           CHAR(36)          NOT NULL CONSTRAINT pk_delivery_attempts PRIMARY KEY,
    delivery_id  CHAR(36)          NOT NULL CONSTRAINT fk_delivery_attempts_delivery REFERENCES dbo.deliveries (id),
    outcome      NVARCHAR(16)      NOT NULL,
    status_code  INT               NULL,
    error        NVARCHAR(2000)    NULL,
    started_at   DATETIMEOFFSET(7) NOT NULL,
    duration_ms  INT               NOT NULL
);
CREATE INDEX ix_delivery_attempts_delivery ON dbo.delivery_attempts (delivery_id, id);
