-- Stale tokens are now deleted by their whole key (token, opportunity_id): the row keeps its tokens in
-- name_tokens. The secondary index only slowed every insert.

DROP INDEX ix_opportunity_tokens_opportunity;
