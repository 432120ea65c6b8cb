-- Every table, view, sequence (with its current value) and index of the warehouse, into the copy.
COPY FROM DATABASE warehouse TO backup;
