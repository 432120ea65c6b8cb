-- How many disagreements were ever recorded (open and resolved): before and after an evaluation.
SELECT count(*) FROM revocation_disagreements;
