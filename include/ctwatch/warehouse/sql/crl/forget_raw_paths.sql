-- Stop keeping the raw files of the versions $ids (chosen by release_raw).
UPDATE crl_versions SET raw_path = NULL WHERE list_contains($ids, version_id);
