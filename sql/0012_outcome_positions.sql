-- Patient outcomes stored once per extract: the extract's patients (its roster) are stored once, and each
-- run's outcome sets hold positions in that roster (int4, rows of the extract as read) instead of repeating
-- every patient's identifier as text in every run of every ruleset. Sets stored before keep their text
-- identifiers; the `patient_outcome` view reads both. Runs not made from an extract (tests, imports) keep
-- text identifiers too.
--
-- Each run also records a fingerprint of its figures (SHA-256 over every stored count, point and pound), so
-- reports are rewritten only when a run's figures changed and "since last run" compares with the last run
-- whose figures differed.

CREATE TABLE extract_roster (
    extract_id    bigint PRIMARY KEY REFERENCES extract (id) ON DELETE CASCADE,
    patient_count integer NOT NULL CHECK (patient_count >= 0),
    fingerprint   text NOT NULL,                -- of the identifiers in order: a re-read extract must match it
    patients      text[] NOT NULL
);
ALTER TABLE extract_roster ALTER COLUMN patients SET STATISTICS 0;

ALTER TABLE patient_outcome_set
    ALTER COLUMN patients DROP NOT NULL,
    ADD COLUMN positions int4[],
    ADD CONSTRAINT patient_outcome_set_one_form CHECK ((patients IS NULL) <> (positions IS NULL));
ALTER TABLE patient_outcome_set ALTER COLUMN positions SET STATISTICS 0;

DO $$
BEGIN
    ALTER TABLE extract_roster ALTER COLUMN patients SET COMPRESSION lz4;
    ALTER TABLE patient_outcome_set ALTER COLUMN positions SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression not available (%); rosters and positions keep the default', SQLERRM;
END
$$;

ALTER TABLE computation_run ADD COLUMN figures_sha256 text;

CREATE OR REPLACE VIEW patient_outcome AS
SELECT s.run_id, s.indicator_id, p.patient_id, s.outcome, s.rule, s.field_name
FROM patient_outcome_set s CROSS JOIN LATERAL unnest(s.patients) AS p (patient_id)
WHERE s.patients IS NOT NULL
UNION ALL
SELECT s.run_id, s.indicator_id, r.patients[p.position + 1], s.outcome, s.rule, s.field_name
FROM patient_outcome_set s
JOIN computation_run c ON c.id = s.run_id
JOIN extract_roster r ON r.extract_id = c.extract_id
CROSS JOIN LATERAL unnest(s.positions) AS p (position)
WHERE s.positions IS NOT NULL;

CREATE OR REPLACE FUNCTION qofd_grant(daemon text, reader text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I', daemon, reader);
    -- The reader: every result, never a password hash or a session.
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', reader);
    EXECUTE format('REVOKE SELECT ON web_session, web_user FROM %I', reader);
    EXECUTE format('GRANT SELECT (username, role, scope, patient_access, disabled, created_at) ON web_user TO %I', reader);
    -- The daemon: the pipeline, the declaration workflow's automatic steps and the web view.
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON organisation, pcn_membership, extract, worker TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON computation_run, register_result, indicator_result, rule_count, rule_step_count, '
                   'ruleset_version, declaration TO %I', daemon);
    EXECUTE format('GRANT UPDATE (finished_at) ON computation_run TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON declaration_state TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON patient_outcome_set, extract_roster TO %I', daemon);   -- DELETE: the retention purge
    EXECUTE format('GRANT SELECT ON patient_outcome TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', daemon);                    -- append only
    EXECUTE format('GRANT SELECT ON schema_migrations TO %I, %I', daemon, reader);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', daemon);
    EXECUTE format('GRANT SELECT ON web_user TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON web_session TO %I', daemon);
END
$$;
