-- A distributor and the resellers it supplies: who may register deals for whom, and see them. Ended, never deleted.
CREATE TABLE dbo.partner_resellers (
    id                     CHAR(36)          NOT NULL CONSTRAINT pk_partner_resellers PRIMARY KEY,
    distributor_id         CHAR(36)          NOT NULL CONSTRAINT fk_partner_resellers_distributor REFERENCES dbo.partners (id),
    reseller_id            CHAR(36)          NOT NULL CONSTRAINT fk_partner_resellers_reseller REFERENCES dbo.partners (id),
    may_register_on_behalf BIT               NOT NULL,
    may_view_deals         BIT               NOT NULL,
    started_at             DATETIMEOFFSET(7) NOT NULL,
    ended_at               DATETIMEOFFSET(7) NULL
);
CREATE UNIQUE INDEX ux_partner_resellers_active ON dbo.partner_resellers (distributor_id, reseller_id) WHERE ended_at IS NULL;
CREATE INDEX ix_partner_resellers_reseller ON dbo.partner_resellers (reseller_id, distributor_id);

-- The distributor that registered a deal for its reseller (the registration's partner); null when the partner did.
ALTER TABLE dbo.registrations ADD registered_by CHAR(36) NULL;

-- The partners on a registration besides its own (the primary, which has no row): invited, then active, or declined,
-- expired or removed. Members never conflict with each other.
CREATE TABLE dbo.registration_members (
    id              CHAR(36)          NOT NULL CONSTRAINT pk_registration_members PRIMARY KEY,
    registration_id CHAR(36)          NOT NULL CONSTRAINT fk_registration_members_registration REFERENCES dbo.registrations (id),
    partner_id      CHAR(36)          NOT NULL CONSTRAINT fk_registration_members_partner REFERENCES dbo.partners (id),
    role            NVARCHAR(32)      NOT NULL,
    status          NVARCHAR(16)      NOT NULL,
    reason          NVARCHAR(2000)    NULL,
    invited_at      DATETIMEOFFSET(7) NOT NULL,
    expires_at      DATETIMEOFFSET(7) NULL,
    decided_at      DATETIMEOFFSET(7) NULL,
    -- The member's terms when it became active (JSON): what its share of a win earns by.
    terms           NVARCHAR(MAX)     NULL
);
CREATE UNIQUE INDEX ux_registration_members_current ON dbo.registration_members (registration_id, partner_id) WHERE status IN ('invited', 'active');
CREATE INDEX ix_registration_members_partner ON dbo.registration_members (partner_id, status, registration_id);

-- A deal's fee split: every version kept, the latest is the split. Shares are exact decimals totalling 100; the primary's
-- member id is the registration's own.
CREATE TABLE dbo.registration_splits (
    registration_id CHAR(36)          NOT NULL CONSTRAINT fk_registration_splits_registration REFERENCES dbo.registrations (id),
    version         INT               NOT NULL,
    member_id       CHAR(36)          NOT NULL,
    partner_id      CHAR(36)          NOT NULL CONSTRAINT fk_registration_splits_partner REFERENCES dbo.partners (id),
    share           NVARCHAR(16)      NOT NULL,
    set_at          DATETIMEOFFSET(7) NOT NULL,
    CONSTRAINT pk_registration_splits PRIMARY KEY (registration_id, version, member_id)
);

-- A split deal's fees: one per registration, trigger, partner and split version, and a correction reverses a fee by a row
-- of the opposite sign (reverses: the fee it undoes).
ALTER TABLE dbo.fees DROP CONSTRAINT uq_fees_registration_trigger;
ALTER TABLE dbo.fees ADD split_version INT NOT NULL CONSTRAINT df_fees_split_version DEFAULT 0, share NVARCHAR(16) NULL,
    reverses NVARCHAR(36) NOT NULL CONSTRAINT df_fees_reverses DEFAULT '';
GO
CREATE UNIQUE INDEX ux_fees_once ON dbo.fees (registration_id, fee_trigger, partner_id, split_version, reverses);

-- Bulk registration as a job: the batch as uploaded, each row's request and what became of it (its prediction, its outcome,
-- written in the decision that made it), and each partner's external references with the content they were registered with.
CREATE TABLE dbo.registration_batches (
    id               CHAR(36)          NOT NULL CONSTRAINT pk_registration_batches PRIMARY KEY,
    partner_id       CHAR(36)          NOT NULL CONSTRAINT fk_registration_batches_partner REFERENCES dbo.partners (id),
    key_id           CHAR(36)          NULL,
    person_id        CHAR(36)          NULL,
    display          NVARCHAR(200)     NULL,
    mode             NVARCHAR(16)      NOT NULL,
    state            NVARCHAR(32)      NOT NULL,
    format           NVARCHAR(16)      NOT NULL,
    columns          NVARCHAR(MAX)     NOT NULL,
    total_rows       INT               NOT NULL,
    idempotency_key  NVARCHAR(255)     NULL,
    body_hash        NVARCHAR(100)     NOT NULL,
    stamp            NVARCHAR(200)     NULL,
    error            NVARCHAR(2000)    NULL,
    commit_requested BIT               NOT NULL CONSTRAINT df_registration_batches_commit_requested DEFAULT 0,
    created_at       DATETIMEOFFSET(7) NOT NULL,
    updated_at       DATETIMEOFFSET(7) NOT NULL
);
CREATE INDEX ix_registration_batches_state ON dbo.registration_batches (state, created_at);
CREATE INDEX ix_registration_batches_partner ON dbo.registration_batches (partner_id, state);
CREATE UNIQUE INDEX ux_registration_batches_idempotency ON dbo.registration_batches (partner_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE dbo.registration_batch_rows (
    batch_id        CHAR(36)       NOT NULL CONSTRAINT fk_registration_batch_rows_batch REFERENCES dbo.registration_batches (id),
    row_number      INT            NOT NULL,
    external_ref    NVARCHAR(400)  NULL,
    cells           NVARCHAR(MAX)  NOT NULL,
    request         NVARCHAR(MAX)  NULL,
    content_hash    NCHAR(64)      NOT NULL,
    earlier_row     INT            NULL,
    prediction      NVARCHAR(32)   NULL,
    outcome         NVARCHAR(32)   NULL,
    reason          NVARCHAR(2000) NULL,
    registration_id CHAR(36)       NULL,
    CONSTRAINT pk_registration_batch_rows PRIMARY KEY (batch_id, row_number)
);

CREATE TABLE dbo.batch_external_refs (
    partner_id      CHAR(36)      NOT NULL CONSTRAINT fk_batch_external_refs_partner REFERENCES dbo.partners (id),
    external_ref    NVARCHAR(100) NOT NULL,
    content_hash    NCHAR(64)     NOT NULL,
    registration_id CHAR(36)      NOT NULL,
    CONSTRAINT pk_batch_external_refs PRIMARY KEY (partner_id, external_ref)
);
