INSERT INTO alerts (position, doc) VALUES (?, ?);
