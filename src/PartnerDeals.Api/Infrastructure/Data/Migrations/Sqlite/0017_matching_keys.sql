-- Which version of the matcher's normaliser (CompanyName.KeysVersion) wrote each table's matching keys
-- (name_key, name_acronym, name_tokens and the token rows), and how far a refresh to a newer one has come:
-- the rows up to after_seq carry the keys of version refreshing_to. No row: the keys of version 1.
CREATE TABLE matching_keys (
    record_table  TEXT    NOT NULL PRIMARY KEY,
    version       INTEGER NOT NULL,
    refreshing_to INTEGER NOT NULL,
    after_seq     INTEGER NOT NULL
);

-- Rows already stored were keyed by normaliser 1; a table still empty gets its rows from normaliser 2, this release's.
INSERT INTO matching_keys (record_table, version, refreshing_to, after_seq)
SELECT 'opportunities', CASE WHEN EXISTS (SELECT 1 FROM opportunities) THEN 1 ELSE 2 END, 2, 0;
INSERT INTO matching_keys (record_table, version, refreshing_to, after_seq)
SELECT 'registrations', CASE WHEN EXISTS (SELECT 1 FROM registrations) THEN 1 ELSE 2 END, 2, 0;
