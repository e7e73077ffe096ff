-- ix_opportunities_status (status, id) was read by no query: the opportunity list filters with
-- "@Status IS NULL OR status = @Status", which cannot seek, and walks ux_opportunities_id in page order;
-- metrics read won opportunities through ix_opportunities_closed. It was still written on every insert.
DROP INDEX IF EXISTS ix_opportunities_status ON dbo.opportunities;
