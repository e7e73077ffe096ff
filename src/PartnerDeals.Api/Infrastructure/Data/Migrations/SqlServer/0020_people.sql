-- People signed in by an OpenID Connect issuer: the first valid token of a person creates them.
CREATE TABLE dbo.people (
    id           CHAR(36)          NOT NULL CONSTRAINT pk_people PRIMARY KEY,
    issuer       NVARCHAR(64)      NOT NULL,
    subject      NVARCHAR(256)     NOT NULL,
    email        NVARCHAR(320)     NULL,
    display_name NVARCHAR(200)     NULL,
    roles        NVARCHAR(64)      NOT NULL,
    partner_id   CHAR(36)          NULL CONSTRAINT fk_people_partner REFERENCES dbo.partners (id),
    created_at   DATETIMEOFFSET(7) NOT NULL,
    last_seen_at DATETIMEOFFSET(7) NOT NULL,
    disabled_at  DATETIMEOFFSET(7) NULL,
    -- Moves when an admin disables or enables the person (the ETag of PATCH /v1/people/{id}), not as they sign in.
    version      INT               NOT NULL
);
CREATE UNIQUE INDEX ux_people_issuer_subject ON dbo.people (issuer, subject);

-- Which partner a person is: a value of the issuer's partner claim, linked by ops. A claim is never read as an id.
CREATE TABLE dbo.partner_sign_in_links (
    id                    CHAR(36)          NOT NULL CONSTRAINT pk_partner_sign_in_links PRIMARY KEY,
    partner_id            CHAR(36)          NOT NULL CONSTRAINT fk_partner_sign_in_links_partner REFERENCES dbo.partners (id),
    issuer                NVARCHAR(64)      NOT NULL,
    claim_value           NVARCHAR(256)     NOT NULL,
    created_at            DATETIMEOFFSET(7) NOT NULL,
    created_by_key_id     CHAR(36)          NULL,
    created_by_person_id  CHAR(36)          NULL
);
CREATE UNIQUE INDEX ux_partner_sign_in_links_claim ON dbo.partner_sign_in_links (issuer, claim_value);
CREATE INDEX ix_partner_sign_in_links_partner ON dbo.partner_sign_in_links (partner_id, id);

-- Every audit event names its actor: a person, an API key (with what a portal asserted) or the service itself.
ALTER TABLE dbo.audit_events ADD actor_kind NVARCHAR(16) NULL, actor_person_id CHAR(36) NULL, actor_display NVARCHAR(200) NULL,
    actor_asserted NVARCHAR(200) NULL;

ALTER TABLE dbo.registration_notes ADD author_person_id CHAR(36) NULL;
ALTER TABLE dbo.conflicts ADD resolved_by_person_id CHAR(36) NULL;

-- The people who approved a registration above the second-approval value (a JSON array; null when none).
ALTER TABLE dbo.registrations ADD approvals NVARCHAR(MAX) NULL;
