-- A partner's own record in each CRM, so a deal's team reaches the CRM: a Salesforce Account (OpportunityPartner's
-- AccountToId), a HubSpot company (associated to the deal), a Dataverse account (a connection to the opportunity).
ALTER TABLE dbo.partners ADD salesforce_account_id NVARCHAR(18) NULL, hubspot_company_id NVARCHAR(20) NULL, dynamics_account_id NVARCHAR(36) NULL;
