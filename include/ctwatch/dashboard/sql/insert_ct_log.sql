INSERT INTO ct_logs (doc) VALUES (?);
