SELECT name, value FROM meta;
