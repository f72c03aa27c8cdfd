-- Least-privilege roles for qofd. Run as a database owner after `qofd migrate` has created the schema
-- (migrations run as the owner role, not as the daemon).
--
--   qofd_owner    owns the schema; used only for migrations and upgrades
--   qofd_daemon   the daemon: reads and writes results, appends to the audit log, never rewrites it
--   qofd_reader   reporting and the web view: read only

CREATE ROLE qofd_daemon LOGIN;
CREATE ROLE qofd_reader LOGIN;

GRANT USAGE ON SCHEMA public TO qofd_daemon, qofd_reader;

GRANT SELECT ON ALL TABLES IN SCHEMA public TO qofd_reader;
REVOKE SELECT ON web_session FROM qofd_reader;                           -- session tokens are not for readers

GRANT SELECT, INSERT, UPDATE ON organisation, pcn_membership, extract, worker TO qofd_daemon;
GRANT SELECT, INSERT ON computation_run, register_result, indicator_result, rule_count, rule_step_count, ruleset_version,
    declaration TO qofd_daemon;
GRANT SELECT, INSERT, DELETE ON patient_outcome_set TO qofd_daemon;      -- DELETE for the retention purge
GRANT SELECT ON patient_outcome TO qofd_daemon;                          -- the same, one row per patient (a view)
GRANT UPDATE (finished_at) ON computation_run TO qofd_daemon;
GRANT SELECT, INSERT ON audit_log TO qofd_daemon;                        -- append only: no UPDATE, DELETE, TRUNCATE
GRANT SELECT ON schema_migrations TO qofd_daemon;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO qofd_daemon;
-- The web view (served by the daemon): reads accounts, keeps its own sessions; accounts are managed
-- by the owner role (`qofd user add`).
GRANT SELECT ON web_user TO qofd_daemon;
GRANT SELECT, INSERT, DELETE ON web_session TO qofd_daemon;

-- The audit log also refuses UPDATE, DELETE and TRUNCATE by trigger, whatever the role.
