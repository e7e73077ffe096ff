-- Every decision batch of every instance advances this count. An instance that finds it moved since its
-- own last batch knows another instance decided meanwhile, and runs again the checks it had run ahead.
CREATE TABLE decision_clock (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
);
INSERT INTO decision_clock (id, value) VALUES (1, 0);
