-- A deal's team asked by its registration (every change's webhooks, the CRM sync's teams, the team's list): the partial
-- index of current members serves only a query with the same status condition, so these scanned the whole table.
CREATE INDEX ix_registration_members_registration ON registration_members (registration_id, status, partner_id);
