-- Nothing looks patient outcome sets up by the patients in them (they are read whole, by run), so the
-- planner needs no statistics about their arrays; gathering them (element frequencies over every stored
-- identifier) made each automatic ANALYZE of the table cost as much as storing the sets in the first place.

ALTER TABLE patient_outcome_set ALTER COLUMN patients SET STATISTICS 0;
