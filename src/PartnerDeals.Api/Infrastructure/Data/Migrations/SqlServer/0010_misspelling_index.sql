-- The misspelling index: every distinct token of four or more letters (not a number) under two
-- signatures, its length with its first half and with its second half after the middle letter
-- (see Blocking.MisspellingSignatures). One edit, or two in one half, leaves one signature as it was,
-- so a misspelt token finds the stored one with a handful of seeks. It holds distinct tokens of
-- opportunities and registrations alike. IGNORE_DUP_KEY: two instances adding one new token at once
-- both succeed. Tokens no record holds any more stay behind; they lead to no row.
CREATE TABLE dbo.token_signatures (
    signature NVARCHAR(210) NOT NULL,
    token     NVARCHAR(200) NOT NULL,
    CONSTRAINT pk_token_signatures PRIMARY KEY (signature, token) WITH (IGNORE_DUP_KEY = ON)
);

INSERT INTO dbo.token_signatures (signature, token)
SELECT CAST(LEN(token) AS NVARCHAR(10)) + N'<' + LEFT(token, LEN(token) / 2), token
FROM (SELECT token FROM dbo.opportunity_tokens UNION SELECT token FROM dbo.registration_tokens) t
WHERE LEN(token) >= 4 AND token LIKE N'%[^0-9]%';

INSERT INTO dbo.token_signatures (signature, token)
SELECT CAST(LEN(token) AS NVARCHAR(10)) + N'>' + SUBSTRING(token, LEN(token) / 2 + 2, 200), token
FROM (SELECT token FROM dbo.opportunity_tokens UNION SELECT token FROM dbo.registration_tokens) t
WHERE LEN(token) >= 4 AND token LIKE N'%[^0-9]%';
