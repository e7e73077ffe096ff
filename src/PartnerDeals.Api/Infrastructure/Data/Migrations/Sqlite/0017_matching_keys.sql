-- Which version of the matcher's normaliser (CompanyName.KeysVersion) wrote each table's matching keys
-- (name_key, name_acronym, name_tokens and the token rows), and how far a refresh to a newer one has come:
-- the rows up to after_seq carry the keys of version refreshing_to. No row: the keys of version 1.
CREATE TABLE matching_keys (
    record_table  TEXT    NOT NULL PRIMARY KEY,
    version       INTEGER NOT NULL,
    refreshing_to INTEGER NOT NULL,
    after_seq     INTEGER NOT NULL
);
