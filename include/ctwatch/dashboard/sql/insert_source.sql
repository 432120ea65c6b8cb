INSERT INTO sources (doc) VALUES (?);
