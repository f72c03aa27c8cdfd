-- Least-privilege roles that really run the product, granted in one place.
--
-- `qofd_grant(daemon, reader)` gives the daemon role what the daemon and its web view do (read and write
-- results, append to the audit log, keep web sessions) and the reader role read access to results without
-- secrets. `deploy/roles.sql` calls it after creating the roles; `qofd migrate` calls it again (as the owner)
-- for roles named qofd_daemon and qofd_reader whenever migrations run, so new tables are granted too; the
-- embedded cluster makes the same split. A later migration that adds a table replaces this function.

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
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON patient_outcome_set TO %I', daemon);   -- DELETE: the retention purge
    EXECUTE format('GRANT SELECT ON patient_outcome TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', daemon);                    -- append only
    EXECUTE format('GRANT SELECT ON schema_migrations TO %I, %I', daemon, reader);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', daemon);
    EXECUTE format('GRANT SELECT ON web_user TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON web_session TO %I', daemon);
END
$$;

-- Who wrote each audit row, as the database knows it: the role of the connection (session_user), which no
-- client can choose. `actor` says who the application acted for; `recorded_by` which role wrote it.
ALTER TABLE audit_log ADD COLUMN recorded_by text NOT NULL DEFAULT session_user;

CREATE FUNCTION audit_log_recorded_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.recorded_by := session_user;
    NEW.at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_recorded_by BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_recorded_by();

-- Failed sign-ins are audited; the brute-force limit counts them per username.
CREATE INDEX audit_log_sign_in_failures_idx ON audit_log (actor, at) WHERE action = 'web-sign-in-failed';
