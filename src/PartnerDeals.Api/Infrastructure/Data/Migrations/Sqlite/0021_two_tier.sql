-- A distributor and the resellers it supplies: who may register deals for whom, and see them. Ended, never deleted.
CREATE TABLE partner_resellers (
    id                     TEXT    NOT NULL PRIMARY KEY,
    distributor_id         TEXT    NOT NULL REFERENCES partners (id),
    reseller_id            TEXT    NOT NULL REFERENCES partners (id),
    may_register_on_behalf INTEGER NOT NULL,
    may_view_deals         INTEGER NOT NULL,
    started_at             TEXT    NOT NULL,
    ended_at               TEXT    NULL
);
CREATE UNIQUE INDEX ux_partner_resellers_active ON partner_resellers (distributor_id, reseller_id) WHERE ended_at IS NULL;
CREATE INDEX ix_partner_resellers_reseller ON partner_resellers (reseller_id, distributor_id);

-- The distributor that registered a deal for its reseller (the registration's partner); null when the partner did.
ALTER TABLE registrations ADD COLUMN registered_by TEXT NULL;

-- The partners on a registration besides its own (the primary, which has no row): invited, then active, or declined,
-- expired or removed. Members never conflict with each other.
CREATE TABLE registration_members (
    id              TEXT NOT NULL PRIMARY KEY,
    registration_id TEXT NOT NULL REFERENCES registrations (id),
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT NULL,
    invited_at      TEXT NOT NULL,
    expires_at      TEXT NULL,
    decided_at      TEXT NULL
);
CREATE UNIQUE INDEX ux_registration_members_current ON registration_members (registration_id, partner_id) WHERE status IN ('invited', 'active');
CREATE INDEX ix_registration_members_partner ON registration_members (partner_id, status, registration_id);
