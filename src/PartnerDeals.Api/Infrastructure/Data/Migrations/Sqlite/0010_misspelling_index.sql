-- The misspelling index: every distinct token of four or more letters (not a number) under two
-- signatures, its length with its first half and with its second half after the middle letter
-- (see Blocking.MisspellingSignatures). One edit, or two in one half, leaves one signature as it was,
-- so a misspelt token finds the stored one with a handful of seeks. It holds distinct tokens of
-- opportunities and registrations alike: a lookup answers tokens, which the token indexes then resolve.
-- Tokens no record holds any more stay behind; they lead to no row.
CREATE TABLE token_signatures (
    signature TEXT NOT NULL,
    token     TEXT NOT NULL,
    PRIMARY KEY (signature, token)
) WITHOUT ROWID;

INSERT OR IGNORE INTO token_signatures (signature, token)
SELECT length(token) || '<' || substr(token, 1, length(token) / 2), token
FROM (SELECT token FROM opportunity_tokens UNION SELECT token FROM registration_tokens)
WHERE length(token) >= 4 AND token GLOB '*[^0-9]*';

INSERT OR IGNORE INTO token_signatures (signature, token)
SELECT length(token) || '>' || substr(token, length(token) / 2 + 2), token
FROM (SELECT token FROM opportunity_tokens UNION SELECT token FROM registration_tokens)
WHERE length(token) >= 4 AND token GLOB '*[^0-9]*';
