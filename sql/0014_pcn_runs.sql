-- A PCN's Network Contract DES achievement is stored as a run of its own: the PCN is the run's subject
-- (computation_run.practice_ods holds the PCN's ODS code; the column keeps its name), source 'pcn', no
-- extract; its counts are the member practices' summed, and pcn_run_member says which practice runs they
-- came from (the members on the achievement date). Declarations, reports and pages read it like any run.

ALTER TABLE computation_run DROP CONSTRAINT IF EXISTS computation_run_source_check;
ALTER TABLE computation_run ADD CONSTRAINT computation_run_source_check CHECK (source IN ('extract', 'cqrs-import', 'pcn'));

CREATE TABLE pcn_run_member (
    run_id        bigint NOT NULL REFERENCES computation_run (id) ON DELETE CASCADE,
    practice_ods  text NOT NULL REFERENCES organisation (ods_code),
    member_run_id bigint NOT NULL REFERENCES computation_run (id),
    PRIMARY KEY (run_id, practice_ods)
);
CREATE INDEX pcn_run_member_member_idx ON pcn_run_member (member_run_id);

CREATE OR REPLACE FUNCTION qofd_grant(daemon text, reader text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I', daemon, reader);
    -- The reader: every result, never a password hash or a session.
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', reader);
    EXECUTE format('REVOKE SELECT ON web_session, web_user FROM %I', reader);
    EXECUTE format('GRANT SELECT (username, role, scope, patient_access, declaration_right, disabled, created_at) ON web_user TO %I', reader);
    -- The daemon: the pipeline, the declaration workflow's automatic steps and the web view.
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON organisation, pcn_membership, extract, worker TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON computation_run, register_result, indicator_result, rule_count, rule_step_count, '
                   'ruleset_version, declaration TO %I', daemon);
    EXECUTE format('GRANT UPDATE (finished_at) ON computation_run TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON declaration_state TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON pcn_run_member TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON patient_outcome_set, extract_roster TO %I', daemon);   -- DELETE: the retention purge
    EXECUTE format('GRANT SELECT ON patient_outcome TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', daemon);                    -- append only
    EXECUTE format('GRANT SELECT ON schema_migrations TO %I, %I', daemon, reader);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', daemon);
    EXECUTE format('GRANT SELECT ON web_user TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON web_session TO %I', daemon);
END
$$;
