-- Drop the evaluation's finding batch of stage once stored.
DROP TABLE finding_batch;
