-- Which version of the matcher's normaliser (CompanyName.KeysVersion) wrote each table's matching keys
-- (name_key, name_acronym, name_tokens and the token rows), and how far a refresh to a newer one has come:
-- the rows up to after_seq carry the keys of version refreshing_to. No row: the keys of version 1.
CREATE TABLE dbo.matching_keys (
    record_table  NVARCHAR(64) NOT NULL CONSTRAINT pk_matching_keys PRIMARY KEY,
    version       INT          NOT NULL,
    refreshing_to INT          NOT NULL,
    after_seq     BIGINT       NOT NULL
);
