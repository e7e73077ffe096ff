-- Names a company is also known as (a CRM's "also known as", former names, local-script names,
-- tickers): a JSON array of up to 20 strings, as written. Blocking indexes their tokens beside the
-- name's (opportunity_tokens, registration_tokens); scoring normalises them again, which costs only
-- the few candidates that have any.
ALTER TABLE opportunities ADD COLUMN alternate_names TEXT NULL;
ALTER TABLE registrations ADD COLUMN alternate_names TEXT NULL;
