-- A partner's own record in each CRM, so a deal's team reaches the CRM: a Salesforce Account (OpportunityPartner's
-- AccountToId), a HubSpot company (associated to the deal), a Dataverse account (a connection to the opportunity).
ALTER TABLE partners ADD COLUMN salesforce_account_id TEXT NULL;
ALTER TABLE partners ADD COLUMN hubspot_company_id TEXT NULL;
ALTER TABLE partners ADD COLUMN dynamics_account_id TEXT NULL;
