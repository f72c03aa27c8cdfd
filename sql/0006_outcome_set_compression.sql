-- Patient outcome sets are written for every run of every practice and read rarely (worklists, audit):
-- compress their patient arrays with lz4, several times cheaper to write than the default pglz at a
-- similar size. A server built without lz4 keeps pglz (the statement fails there and is skipped).

DO $$
BEGIN
    ALTER TABLE patient_outcome_set ALTER COLUMN patients SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression not available (%); patient outcome sets keep the default', SQLERRM;
END
$$;
