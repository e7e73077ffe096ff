-- Bulk ingest is bound by the pages each commit dirties in the random-order structures. Two of them
-- shrink here:
-- 1. The token index refers to an opportunity by a stable integer, seq, where it held the 36-character
--    id: a token row is a third of the size.
-- 2. ix_opportunities_closed holds won opportunities only, the ones metrics read; open and lost ones,
--    most of a pipeline, no longer write to it.

ALTER TABLE dbo.opportunities ADD seq BIGINT IDENTITY(1, 1) NOT NULL;
GO

CREATE UNIQUE INDEX ux_opportunities_seq ON dbo.opportunities (seq);

CREATE TABLE dbo.opportunity_tokens_by_seq (
    token           NVARCHAR(200) NOT NULL,
    opportunity_seq BIGINT        NOT NULL,
    CONSTRAINT pk_opportunity_tokens_by_seq PRIMARY KEY (token, opportunity_seq)
);
INSERT INTO dbo.opportunity_tokens_by_seq (token, opportunity_seq)
SELECT t.token, o.seq FROM dbo.opportunity_tokens t JOIN dbo.opportunities o ON o.id = t.opportunity_id;
DROP TABLE dbo.opportunity_tokens;
EXEC sp_rename 'dbo.opportunity_tokens_by_seq', 'opportunity_tokens';
EXEC sp_rename 'dbo.pk_opportunity_tokens_by_seq', 'pk_opportunity_tokens', 'OBJECT';

DROP INDEX ix_opportunities_closed ON dbo.opportunities;
CREATE INDEX ix_opportunities_closed ON dbo.opportunities (close_date) INCLUDE (currency, amount, opened_date, created_at) WHERE status = 'won';
