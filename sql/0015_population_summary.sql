-- Population health aggregates per processed extract: how many registered patients fall in each segment,
-- frailty category (recorded or estimated), QRISK3 band, Core20PLUS5 flag, by IMD quintile, ethnic group, sex
-- and age band. Stored once per extract and model version; every page and command reads them from here.

CREATE TABLE population_run (
    id            bigserial PRIMARY KEY,
    extract_id    bigint REFERENCES extract (id),
    practice_ods  text NOT NULL REFERENCES organisation (ods_code),
    as_of         date NOT NULL,
    models_sha256 text NOT NULL CHECK (models_sha256 ~ '^[0-9a-f]{64}$'),   -- segmentation, frailty and QRISK3 input models
    list_size     integer NOT NULL CHECK (list_size >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (extract_id, models_sha256)
);
CREATE INDEX population_run_practice_idx ON population_run (practice_ods, as_of, id);

CREATE TABLE population_count (
    run_id    bigint NOT NULL REFERENCES population_run (id) ON DELETE CASCADE,
    measure   text NOT NULL CHECK (measure IN ('segment', 'frailty', 'qrisk3', 'core20', 'plus', 'five')),
    category  text NOT NULL,
    dimension text NOT NULL CHECK (dimension IN ('all', 'imd_quintile', 'ethnic_group', 'sex', 'age_band')),
    grp       text NOT NULL,
    value     integer NOT NULL CHECK (value >= 0),
    PRIMARY KEY (run_id, measure, category, dimension, grp)
);

-- The roles' grants, replaced once for migrations 0013-0015: the reader may see who holds which right (0013);
-- the daemon records which member runs a PCN run was summed from (0014) and stores population summaries (0015).
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
    EXECUTE format('GRANT SELECT, INSERT ON population_run, population_count TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON patient_outcome_set, extract_roster TO %I', daemon);   -- DELETE: the retention purge
    EXECUTE format('GRANT SELECT ON patient_outcome TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', daemon);                    -- append only
    EXECUTE format('GRANT SELECT ON schema_migrations TO %I, %I', daemon, reader);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', daemon);
    EXECUTE format('GRANT SELECT ON web_user TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON web_session TO %I', daemon);
END
$$;
