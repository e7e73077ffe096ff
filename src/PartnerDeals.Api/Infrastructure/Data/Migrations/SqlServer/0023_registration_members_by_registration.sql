-- A deal's team asked by its registration (every change's webhooks, the CRM sync's teams, the team's list).
CREATE INDEX ix_registration_members_registration ON dbo.registration_members (registration_id, status, partner_id);
