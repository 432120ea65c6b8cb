-- The warehouse to back up, read-only: writers wait while the copy is taken, so it is consistent.
ATTACH $path AS warehouse (READ_ONLY);
