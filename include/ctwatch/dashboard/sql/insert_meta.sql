INSERT INTO meta (name, value) VALUES (?, ?);
