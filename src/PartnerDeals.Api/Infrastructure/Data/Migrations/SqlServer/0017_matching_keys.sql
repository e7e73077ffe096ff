-- Which version of the matcher's normaliser (CompanyName.KeysVersion) wrote each table's matching keys
-- (name_key, name_acronym, name_tokens and the token rows), and how far a refresh to a newer one has come:
-- the rows up to after_seq carry the keys of version refreshing_to. No row: the keys of version 1.
CREATE TABLE dbo.matching_keys (
    record_table  NVARCHAR(64) NOT NULL CONSTRAINT pk_matching_keys PRIMARY KEY,
    version       INT          NOT NULL,
    refreshing_to INT          NOT NULL,
    after_seq     BIGINT       NOT NULL
);

-- Rows already stored were keyed by normaliser 1; a table still empty gets its rows from normaliser 2, this release's.
INSERT INTO dbo.matching_keys (record_table, version, refreshing_to, after_seq)
SELECT N'opportunities', CASE WHEN EXISTS (SELECT 1 FROM dbo.opportunities) THEN 1 ELSE 2 END, 2, 0;
INSERT INTO dbo.matching_keys (record_table, version, refreshing_to, after_seq)
SELECT N'registrations', CASE WHEN EXISTS (SELECT 1 FROM dbo.registrations) THEN 1 ELSE 2 END, 2, 0;
