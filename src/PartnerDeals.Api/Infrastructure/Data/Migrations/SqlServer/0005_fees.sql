-- Fees a partner earns on its registrations, accrued by the terms snapshotted at approval.

CREATE TABLE dbo.fees (
    id                CHAR(36)          NOT NULL CONSTRAINT pk_fees PRIMARY KEY,
    registration_id   CHAR(36)          NOT NULL CONSTRAINT fk_fees_registration REFERENCES dbo.registrations (id),
    partner_id        CHAR(36)          NOT NULL CONSTRAINT fk_fees_partner REFERENCES dbo.partners (id),
    -- qualified_introduction or closed_won: what earned it; a registration earns each at most once.
    fee_trigger       NVARCHAR(32)      NOT NULL,
    fee_model         NVARCHAR(32)      NOT NULL,
    basis_amount      DECIMAL(19, 4)    NULL,
    fee_percent       DECIMAL(9, 4)     NULL,
    amount            DECIMAL(19, 4)    NOT NULL,
    currency          CHAR(3)           NOT NULL,
    accrued_at        DATETIMEOFFSET(7) NOT NULL,
    due_at            DATETIMEOFFSET(7) NOT NULL,
    paid_at           DATETIMEOFFSET(7) NULL,
    paid_by_key_id    CHAR(36)          NULL,
    payment_reference NVARCHAR(200)     NULL,
    CONSTRAINT uq_fees_registration_trigger UNIQUE (registration_id, fee_trigger)
);
CREATE INDEX ix_fees_partner_accrued ON dbo.fees (partner_id, accrued_at);
