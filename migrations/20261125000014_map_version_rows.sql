-- How many rows (stages for a CJM or a blueprint) each saved version
-- holds, written with it: the history lists them without reading every
-- version's content. NULL for versions saved before this column, which
-- the history still counts from their content.
ALTER TABLE map_versions ADD COLUMN row_count BIGINT;
