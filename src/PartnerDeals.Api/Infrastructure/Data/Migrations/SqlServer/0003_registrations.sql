-- Deal registrations and everything decided about them: conflicts with their candidates,
-- protection extensions, the notes thread, idempotency keys and the outbox the CRM sync delivers.

CREATE TABLE dbo.registrations (
    id                    CHAR(36)       NOT NULL CONSTRAINT pk_registrations PRIMARY KEY,
    seq                   BIGINT         NOT NULL,
    partner_id            CHAR(36)       NOT NULL CONSTRAINT fk_registrations_partner REFERENCES dbo.partners (id),
    status                NVARCHAR(32)   NOT NULL,
    verdict               NVARCHAR(16)   NOT NULL,
    reason                NVARCHAR(64)   NOT NULL,
    company_name          NVARCHAR(300)  NOT NULL,
    company_website       NVARCHAR(2048) NULL,
    company_domain        NVARCHAR(253)  NULL,
    country               NCHAR(2)       NOT NULL,
    industry              NVARCHAR(100)  NULL,
    employee_count        INT            NULL,
    contact_name          NVARCHAR(200)  NOT NULL,
    contact_email         NVARCHAR(320)  NOT NULL,
    contact_title         NVARCHAR(200)  NULL,
    deal_name             NVARCHAR(300)  NOT NULL,
    products              NVARCHAR(MAX)  NOT NULL,
    estimated_value       DECIMAL(19, 4) NOT NULL,
    currency              NCHAR(3)       NOT NULL,
    expected_close_date   DATE           NULL,
    deal_notes            NVARCHAR(4000) NULL,
    relationship_owner    NVARCHAR(16)   NOT NULL,
    demo_owner            NVARCHAR(16)   NOT NULL,
    contract_owner        NVARCHAR(16)   NOT NULL,
    co_sell               BIT            NOT NULL,
    name_key              NVARCHAR(300)  NOT NULL,
    name_acronym          NVARCHAR(64)   NOT NULL,
    name_tokens           NVARCHAR(600)  NOT NULL,
    icp_qualified         BIT            NOT NULL,
    icp_failed_rule       NVARCHAR(200)  NULL,
    policy_version        NVARCHAR(64)   NOT NULL,
    rejection_reason      NVARCHAR(32)   NULL,
    decision_note         NVARCHAR(2000) NULL,
    protection_expires_at DATETIMEOFFSET(7) NULL,
    extensions_granted    INT            NOT NULL,
    terms_tier            NVARCHAR(32)   NULL,
    terms_fee_model       NVARCHAR(32)   NULL,
    terms_fee_percent     DECIMAL(9, 4)  NULL,
    terms_fee_amount      DECIMAL(19, 4) NULL,
    terms_fee_currency    NCHAR(3)       NULL,
    terms_fee_trigger     NVARCHAR(32)   NULL,
    terms_payment_net_days INT           NULL,
    terms_protection_days INT            NULL,
    outcome_amount        DECIMAL(19, 4) NULL,
    outcome_currency      NCHAR(3)       NULL,
    closed_at             DATETIMEOFFSET(7) NULL,
    lost_reason           NVARCHAR(500)  NULL,
    submitted_at          DATETIMEOFFSET(7) NOT NULL,
    decided_at            DATETIMEOFFSET(7) NULL,
    created_by_key_id     CHAR(36)       NULL,
    version               INT            NOT NULL,
    created_at            DATETIMEOFFSET(7) NOT NULL,
    updated_at            DATETIMEOFFSET(7) NOT NULL
);
-- seq is the order of submission, assigned inside the decision transaction: precedence among claims.
CREATE UNIQUE INDEX ux_registrations_seq ON dbo.registrations (seq);
CREATE INDEX ix_registrations_partner ON dbo.registrations (partner_id, id);
CREATE INDEX ix_registrations_status ON dbo.registrations (status, id);
CREATE INDEX ix_registrations_company_domain ON dbo.registrations (company_domain) WHERE company_domain IS NOT NULL;
CREATE INDEX ix_registrations_name_key ON dbo.registrations (name_key);
CREATE INDEX ix_registrations_name_acronym ON dbo.registrations (name_acronym) WHERE name_acronym <> '';
CREATE INDEX ix_registrations_protection ON dbo.registrations (status, protection_expires_at);

CREATE TABLE dbo.registration_tokens (
    token           NVARCHAR(200) NOT NULL,
    registration_id CHAR(36)      NOT NULL,
    CONSTRAINT pk_registration_tokens PRIMARY KEY (token, registration_id)
);

CREATE TABLE dbo.conflicts (
    id                 CHAR(36)       NOT NULL CONSTRAINT pk_conflicts PRIMARY KEY,
    registration_id    CHAR(36)       NOT NULL CONSTRAINT fk_conflicts_registration REFERENCES dbo.registrations (id),
    status             NVARCHAR(16)   NOT NULL,
    kind               NVARCHAR(32)   NOT NULL,
    verdict            NVARCHAR(16)   NOT NULL,
    score              DECIMAL(9, 6)  NOT NULL,
    policy_version     NVARCHAR(64)   NOT NULL,
    resolution         NVARCHAR(32)   NULL,
    resolution_note    NVARCHAR(2000) NULL,
    resolved_by_key_id CHAR(36)       NULL,
    resolved_at        DATETIMEOFFSET(7) NULL,
    created_at         DATETIMEOFFSET(7) NOT NULL,
    updated_at         DATETIMEOFFSET(7) NOT NULL
);
CREATE INDEX ix_conflicts_registration ON dbo.conflicts (registration_id, id);
CREATE INDEX ix_conflicts_status ON dbo.conflicts (status, id);

CREATE TABLE dbo.conflict_candidates (
    conflict_id  CHAR(36)      NOT NULL CONSTRAINT fk_conflict_candidates_conflict REFERENCES dbo.conflicts (id),
    candidate_id CHAR(36)      NOT NULL,
    kind         NVARCHAR(32)  NOT NULL,
    label        NVARCHAR(300) NOT NULL,
    score        DECIMAL(9, 6) NOT NULL,
    verdict      NVARCHAR(16)  NOT NULL,
    signals      NVARCHAR(MAX) NOT NULL,
    CONSTRAINT pk_conflict_candidates PRIMARY KEY (conflict_id, candidate_id)
);
CREATE INDEX ix_conflict_candidates_candidate ON dbo.conflict_candidates (candidate_id);

CREATE TABLE dbo.extension_requests (
    id              CHAR(36)       NOT NULL CONSTRAINT pk_extension_requests PRIMARY KEY,
    registration_id CHAR(36)       NOT NULL CONSTRAINT fk_extension_requests_registration REFERENCES dbo.registrations (id),
    status          NVARCHAR(16)   NOT NULL,
    days            INT            NOT NULL,
    reason          NVARCHAR(2000) NULL,
    decision_note   NVARCHAR(2000) NULL,
    requested_at    DATETIMEOFFSET(7) NOT NULL,
    decided_at      DATETIMEOFFSET(7) NULL
);
CREATE INDEX ix_extension_requests_registration ON dbo.extension_requests (registration_id, id);

CREATE TABLE dbo.registration_notes (
    id              CHAR(36)       NOT NULL CONSTRAINT pk_registration_notes PRIMARY KEY,
    registration_id CHAR(36)       NOT NULL CONSTRAINT fk_registration_notes_registration REFERENCES dbo.registrations (id),
    author_key_id   CHAR(36)       NULL,
    author_role     NVARCHAR(16)   NOT NULL,
    internal        BIT            NOT NULL,
    body            NVARCHAR(4000) NOT NULL,
    created_at      DATETIMEOFFSET(7) NOT NULL
);
CREATE INDEX ix_registration_notes_registration ON dbo.registration_notes (registration_id, id);

-- A retried POST finds its first answer here; the scope is the partner (or the vendor key) that sent it.
CREATE TABLE dbo.idempotency_keys (
    scope           NVARCHAR(64)  NOT NULL,
    idempotency_key NVARCHAR(200) NOT NULL,
    request_hash    NCHAR(64)     NOT NULL,
    status_code     INT           NOT NULL,
    resource_id     CHAR(36)      NOT NULL,
    response_body   NVARCHAR(MAX) NOT NULL,
    created_at      DATETIMEOFFSET(7) NOT NULL,
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (scope, idempotency_key)
);

-- Written in the same transaction as the change it describes; the CRM sync delivers it.
CREATE TABLE dbo.outbox (
    id              CHAR(36)      NOT NULL CONSTRAINT pk_outbox PRIMARY KEY,
    registration_id CHAR(36)      NOT NULL,
    event_type      NVARCHAR(64)  NOT NULL,
    payload         NVARCHAR(MAX) NOT NULL,
    occurred_at     DATETIMEOFFSET(7) NOT NULL
);
CREATE INDEX ix_outbox_registration ON dbo.outbox (registration_id, id);
