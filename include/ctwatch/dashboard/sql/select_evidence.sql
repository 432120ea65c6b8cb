SELECT doc FROM evidence WHERE der_sha256 = ?;
