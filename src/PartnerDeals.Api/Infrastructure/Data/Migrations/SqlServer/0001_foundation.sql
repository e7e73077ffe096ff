-- Partners, API keys and the audit trail. Text is NVARCHAR, as the parameters are, so seeks never
-- convert. Ids are UUIDv7 text (char(36), so text order is
-- creation order on both providers); instants are datetimeoffset in UTC.

CREATE TABLE dbo.partners (
    id                CHAR(36)       NOT NULL CONSTRAINT pk_partners PRIMARY KEY,
    name              NVARCHAR(200)  NOT NULL,
    name_key          NVARCHAR(200)  NOT NULL,
    type              NVARCHAR(32)    NOT NULL,
    tier              NVARCHAR(32)    NOT NULL,
    status            NVARCHAR(32)    NOT NULL,
    contact_email     NVARCHAR(320)  NOT NULL,
    fee_model         NVARCHAR(32)    NOT NULL,
    fee_percent       DECIMAL(9, 4)  NULL,
    fee_amount        DECIMAL(19, 4) NULL,
    fee_currency      NCHAR(3)        NULL,
    fee_trigger       NVARCHAR(32)    NOT NULL,
    payment_net_days  INT            NOT NULL,
    protection_days   INT            NOT NULL,
    exclusive         BIT            NOT NULL,
    version           INT            NOT NULL,
    created_at        DATETIMEOFFSET(7) NOT NULL,
    updated_at        DATETIMEOFFSET(7) NOT NULL
);
CREATE UNIQUE INDEX ux_partners_name_key ON dbo.partners (name_key);
CREATE INDEX ix_partners_type ON dbo.partners (type, id);
CREATE INDEX ix_partners_tier ON dbo.partners (tier, id);
CREATE INDEX ix_partners_status ON dbo.partners (status, id);

CREATE TABLE dbo.api_keys (
    id           CHAR(36)      NOT NULL CONSTRAINT pk_api_keys PRIMARY KEY,
    name         NVARCHAR(200) NOT NULL,
    prefix       NVARCHAR(16)   NOT NULL,
    secret_hash  NCHAR(64)      NOT NULL,
    role         NVARCHAR(16)   NOT NULL,
    partner_id   CHAR(36)      NULL CONSTRAINT fk_api_keys_partner REFERENCES dbo.partners (id),
    created_at   DATETIMEOFFSET(7) NOT NULL,
    created_by   CHAR(36)      NULL,
    revoked_at   DATETIMEOFFSET(7) NULL
);
CREATE INDEX ix_api_keys_prefix ON dbo.api_keys (prefix);
CREATE UNIQUE INDEX ux_api_keys_secret_hash ON dbo.api_keys (secret_hash);
CREATE INDEX ix_api_keys_partner ON dbo.api_keys (partner_id, id);

CREATE TABLE dbo.audit_events (
    id           CHAR(36)      NOT NULL CONSTRAINT pk_audit_events PRIMARY KEY,
    entity_type  NVARCHAR(32)   NOT NULL,
    entity_id    CHAR(36)      NOT NULL,
    action       NVARNCHAR(64)   NOT NULL,
    actor_key_id CHAR(36)      NULL,
    actor_role   NVARCHAR(16)   NOT NULL,
    occurred_at  DATETIMEOFFSET(7) NOT NULL,
    data         NVARCHAR(MAX) NOT NULL
);
CREATE INDEX ix_audit_events_entity ON dbo.audit_events (entity_type, entity_id, id);
GO

-- The trail is evidence in disputes about money: no code path may rewrite it.
CREATE TRIGGER dbo.audit_events_immutable ON dbo.audit_events
INSTEAD OF UPDATE, DELETE
AS
BEGIN
    THROW 51000, 'audit events are immutable', 1;
END;
GO
