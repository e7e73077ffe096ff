-- Every decision batch of every instance advances this count. An instance that finds it moved since its
-- own last batch knows another instance decided meanwhile, and runs again the checks it had run ahead.
CREATE TABLE dbo.decision_clock (
    id     INT    NOT NULL CONSTRAINT pk_decision_clock PRIMARY KEY CONSTRAINT ck_decision_clock_one CHECK (id = 1),
    value  BIGINT NOT NULL
);
INSERT INTO dbo.decision_clock (id, value) VALUES (1, 0);
