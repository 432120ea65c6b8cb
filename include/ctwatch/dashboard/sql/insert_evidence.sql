INSERT INTO evidence (der_sha256, doc) VALUES (?, ?);
