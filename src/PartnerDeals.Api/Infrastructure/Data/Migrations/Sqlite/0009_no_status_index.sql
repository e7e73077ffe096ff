-- ix_opportunities_status (status, 36-character id) was read by no query: the opportunity list filters
-- with "@Status IS NULL OR status = @Status", which no planner can seek with, and walks ux_opportunities_id
-- in page order instead; metrics read won opportunities through ix_opportunities_closed. It was still
-- written on every insert: at 1,000,000 rows a 13,000-page B-tree, and about a twelfth of a bulk import.
DROP INDEX IF EXISTS ix_opportunities_status;
