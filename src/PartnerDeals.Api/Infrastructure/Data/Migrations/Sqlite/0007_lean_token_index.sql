-- A row's tokens are taken out by the primary key (token, opportunity_id), from the row's own
-- name_tokens; the index by opportunity only cost every insert a second B-tree write.
DROP INDEX ix_opportunity_tokens_opportunity;
