-- People signed in by an OpenID Connect issuer: the first valid token of a person creates them.
CREATE TABLE people (
    id           TEXT NOT NULL PRIMARY KEY,
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    email        TEXT NULL,
    display_name TEXT NULL,
    roles        TEXT NOT NULL,
    partner_id   TEXT NULL REFERENCES partners (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    disabled_at  TEXT NULL,
    -- Moves when an admin disables or enables the person (the ETag of PATCH /v1/people/{id}), not as they sign in.
    version      INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_people_issuer_subject ON people (issuer, subject);

-- Which partner a person is: a value of the issuer's partner claim, linked by ops. A claim is never read as an id.
CREATE TABLE partner_sign_in_links (
    id                    TEXT NOT NULL PRIMARY KEY,
    partner_id            TEXT NOT NULL REFERENCES partners (id),
    issuer                TEXT NOT NULL,
    claim_value           TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    created_by_key_id     TEXT NULL,
    created_by_person_id  TEXT NULL
);
CREATE UNIQUE INDEX ux_partner_sign_in_links_claim ON partner_sign_in_links (issuer, claim_value);
CREATE INDEX ix_partner_sign_in_links_partner ON partner_sign_in_links (partner_id, id);

-- Every audit event names its actor: a person, an API key (with what a portal asserted) or the service itself.
ALTER TABLE audit_events ADD COLUMN actor_kind TEXT NULL;
ALTER TABLE audit_events ADD COLUMN actor_person_id TEXT NULL;
ALTER TABLE audit_events ADD COLUMN actor_display TEXT NULL;
ALTER TABLE audit_events ADD COLUMN actor_asserted TEXT NULL;

ALTER TABLE registration_notes ADD COLUMN author_person_id TEXT NULL;
ALTER TABLE conflicts ADD COLUMN resolved_by_person_id TEXT NULL;

-- The people who approved a registration above the second-approval value (a JSON array; null when none).
ALTER TABLE registrations ADD COLUMN approvals TEXT NULL;
