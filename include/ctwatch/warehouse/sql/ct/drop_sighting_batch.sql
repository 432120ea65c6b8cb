-- Drop the sighting batch of stage_sightings once merged.
DROP TABLE ct_sighting_batch;
