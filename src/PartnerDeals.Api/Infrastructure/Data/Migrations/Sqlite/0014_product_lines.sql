-- Product lines: an opportunity names its products (a JSON array of codes or names, null for none), so a
-- conflict can be scoped to the deals that share a line.
ALTER TABLE opportunities ADD COLUMN products TEXT NULL;
