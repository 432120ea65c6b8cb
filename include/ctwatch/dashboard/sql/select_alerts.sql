SELECT doc FROM alerts ORDER BY position LIMIT ?;
