-- The vendor's direct pipeline, with the matching keys computed when a row is written:
-- company_domain (registrable, never free mail), name_key, name_acronym, name_tokens, and the
-- inverted token index opportunity_tokens that finds candidates by shared rare tokens.

CREATE TABLE dbo.opportunities (
    id             CHAR(36)       NOT NULL CONSTRAINT pk_opportunities PRIMARY KEY,
    source         NVARCHAR(32)    NOT NULL,
    external_id    NVARCHAR(128)  NOT NULL,
    account_name   NVARCHAR(300)  NOT NULL,
    account_domain NVARCHAR(2048) NULL,
    company_domain NVARCHAR(253)   NULL,
    country        NCHAR(2)        NULL,
    owner          NVARCHAR(200)  NULL,
    stage          NVARCHAR(100)  NULL,
    status         NVARCHAR(16)    NOT NULL,
    amount         DECIMAL(19, 4) NULL,
    currency       NCHAR(3)        NULL,
    close_date     DATE           NULL,
    name_key       NVARCHAR(300)  NOT NULL,
    name_acronym   NVARCHAR(64)    NOT NULL,
    name_tokens    NVARCHAR(600)  NOT NULL,
    version        INT            NOT NULL,
    created_at     DATETIMEOFFSET(7) NOT NULL,
    updated_at     DATETIMEOFFSET(7) NOT NULL
);
CREATE UNIQUE INDEX ux_opportunities_source_external_id ON dbo.opportunities (source, external_id);
CREATE INDEX ix_opportunities_company_domain ON dbo.opportunities (company_domain) WHERE company_domain IS NOT NULL;
CREATE INDEX ix_opportunities_name_key ON dbo.opportunities (name_key);
CREATE INDEX ix_opportunities_name_acronym ON dbo.opportunities (name_acronym) WHERE name_acronym <> '';
CREATE INDEX ix_opportunities_status ON dbo.opportunities (status, id);

CREATE TABLE dbo.opportunity_tokens (
    token          NVARCHAR(200) NOT NULL,
    opportunity_id CHAR(36)      NOT NULL,
    CONSTRAINT pk_opportunity_tokens PRIMARY KEY (token, opportunity_id)
);
CREATE INDEX ix_opportunity_tokens_opportunity ON dbo.opportunity_tokens (opportunity_id);
