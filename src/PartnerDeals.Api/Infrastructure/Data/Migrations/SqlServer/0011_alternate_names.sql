-- Names a company is also known as (a CRM's "also known as", former names, local-script names,
-- tickers): a JSON array of up to 20 strings, as written. Blocking indexes their tokens beside the
-- name's (opportunity_tokens, registration_tokens); scoring normalises them again, which costs only
-- the few candidates that have any.
ALTER TABLE dbo.opportunities ADD alternate_names NVARCHAR(MAX) NULL;
ALTER TABLE dbo.registrations ADD alternate_names NVARCHAR(MAX) NULL;
