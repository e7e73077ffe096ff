-- Bulk ingest is bound by the pages each commit dirties in the random-order structures. Two of them
-- shrink here:
-- 1. The token index refers to an opportunity by a stable integer, seq (the rowid, declared so that a
--    VACUUM cannot renumber it), where it held the 36-character id: a token row is a third of the size,
--    and a token leads to its opportunity by the table's own B-tree instead of through an index on id.
-- 2. ix_opportunities_closed holds won opportunities only, the ones metrics read; open and lost ones,
--    most of a pipeline, no longer write to it.
-- SQLite cannot add a primary key to a table, so opportunities is rebuilt, in id (= creation) order.

CREATE TABLE opportunities_by_seq (
    seq            INTEGER NOT NULL PRIMARY KEY,
    id             TEXT    NOT NULL,
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
    updated_at     TEXT    NOT NULL,
    opened_date    TEXT    NULL
);
INSERT INTO opportunities_by_seq (id, source, external_id, account_name, account_domain, company_domain, country, owner, stage, status,
    amount, currency, close_date, name_key, name_acronym, name_tokens, version, created_at, updated_at, opened_date)
SELECT id, source, external_id, account_name, account_domain, company_domain, country, owner, stage, status,
    amount, currency, close_date, name_key, name_acronym, name_tokens, version, created_at, updated_at, opened_date
FROM opportunities ORDER BY id;
CREATE UNIQUE INDEX ux_opportunities_id ON opportunities_by_seq (id);

CREATE TABLE opportunity_tokens_by_seq (
    token           TEXT    NOT NULL,
    opportunity_seq INTEGER NOT NULL,
    PRIMARY KEY (token, opportunity_seq)
) WITHOUT ROWID;
INSERT INTO opportunity_tokens_by_seq (token, opportunity_seq)
SELECT t.token, o.seq FROM opportunity_tokens t JOIN opportunities_by_seq o ON o.id = t.opportunity_id;

DROP TABLE opportunity_tokens;
DROP TABLE opportunities;
ALTER TABLE opportunities_by_seq RENAME TO opportunities;
ALTER TABLE opportunity_tokens_by_seq RENAME TO opportunity_tokens;

CREATE UNIQUE INDEX ux_opportunities_source_external_id ON opportunities (source, external_id);
CREATE INDEX ix_opportunities_company_domain ON opportunities (company_domain) WHERE company_domain IS NOT NULL;
CREATE INDEX ix_opportunities_name_key ON opportunities (name_key);
CREATE INDEX ix_opportunities_name_acronym ON opportunities (name_acronym) WHERE name_acronym <> '';
CREATE INDEX ix_opportunities_status ON opportunities (status, id);
CREATE INDEX ix_opportunities_closed ON opportunities (close_date, currency, amount, opened_date, created_at) WHERE status = 'won';
