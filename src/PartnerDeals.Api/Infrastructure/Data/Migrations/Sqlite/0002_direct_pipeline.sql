-- The vendor's direct pipeline, with the matching keys computed when a row is written:
-- company_domain (registrable, never free mail), name_key, name_acronym, name_tokens, and the
-- inverted token index opportunity_tokens that finds candidates by shared rare tokens.

CREATE TABLE opportunities (
    id             TEXT    NOT NULL PRIMARY KEY,
    source         TEXT    NOT NULL,
    external_id    TEXT    NOT NULL,
    account_name   TEXT    NOT NULL,
    account_domain TEXT    NULL,
    company_domain TEXT    NULL,
    country        TEXT    NULL,
    owner          TEXT    NULL,
    stage          TEXT    NULL,
    status         TEXT    NOT NULL,
    amount         NUMERIC NULL,
    currency       TEXT    NULL,
    close_date     TEXT    NULL,
    name_key       TEXT    NOT NULL,
    name_acronym   TEXT    NOT NULL,
    name_tokens    TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_opportunities_source_external_id ON opportunities (source, external_id);
CREATE INDEX ix_opportunities_company_domain ON opportunities (company_domain) WHERE company_domain IS NOT NULL;
CREATE INDEX ix_opportunities_name_key ON opportunities (name_key);
CREATE INDEX ix_opportunities_name_acronym ON opportunities (name_acronym) WHERE name_acronym <> '';
CREATE INDEX ix_opportunities_status ON opportunities (status, id);

CREATE TABLE opportunity_tokens (
    token          TEXT NOT NULL,
    opportunity_id TEXT NOT NULL,
    PRIMARY KEY (token, opportunity_id)
) WITHOUT ROWID;
CREATE INDEX ix_opportunity_tokens_opportunity ON opportunity_tokens (opportunity_id);
