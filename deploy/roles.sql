-- Least-privilege roles for qofd. Run as the database owner after `qofd migrate` has created the schema
-- (migrations always run as the owner role, never as the daemon):
--
--   psql -d qofd -f deploy/roles.sql
--   ALTER ROLE qofd_daemon PASSWORD '…';  ALTER ROLE qofd_reader PASSWORD '…';   (or certificate / peer auth)
--
--   qofd_owner    owns the schema; used only for migrations, upgrades and the admin commands
--                 (`qofd migrate`, `user add`, `declare`, `approve`, `report`)
--   qofd_daemon   `qofd serve`: the pipeline and the web view; reads and writes results, appends to the
--                 audit log (each row records the role that wrote it), never rewrites it, never migrates
--   qofd_reader   reporting tools: reads every result, never a password hash or a session
--
-- The grants live in the schema itself (`qofd_grant`, migration 11), so `qofd migrate` re-applies them to
-- roles named qofd_daemon and qofd_reader after every upgrade.

CREATE ROLE qofd_daemon LOGIN;
CREATE ROLE qofd_reader LOGIN;

SELECT qofd_grant('qofd_daemon', 'qofd_reader');

-- The audit log also refuses UPDATE, DELETE and TRUNCATE by trigger, whatever the role.
