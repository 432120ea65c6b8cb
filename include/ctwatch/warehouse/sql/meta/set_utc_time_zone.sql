-- Sessions compute and hand back times in UTC.
SET TimeZone = 'UTC';
