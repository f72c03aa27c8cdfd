-- Patient-level population health, kept like patient outcomes: for each population summary, every patient it
-- counted (positions in the extract's roster, 0-based) with their segment, frailty and QRISK3, as parallel
-- arrays, at most 5,000 patients a row (as the outcome sets are). Stored only with store_patient_outcomes; purged with
-- the outcomes after patient_outcome_years (the counts, `population_cells`, are kept for ever).
-- `population_patient_row` reads it one patient per row with the values spelled out.

-- The summaries also count each cohort and case-finding rule, and the people missing from the data (each a
-- cohort too), by the same breakdowns: the PCN's counts and the practice's figures read them from here.
-- A summary's cells (a thousand or more a practice, now with the cohorts) are written once, whole, and read whole
-- by run: they are kept as one row of parallel arrays per summary (`population_cells`), and `population_count`
-- becomes a view reading them one cell per row, as before. Storing a row per cell was most of the summary's cost.
CREATE TABLE population_cells (
    run_id     bigint PRIMARY KEY REFERENCES population_run (id) ON DELETE CASCADE,
    measures   text[] NOT NULL CHECK (measures <@ ARRAY['segment', 'frailty', 'qrisk3', 'core20', 'plus', 'five', 'cohort']),
    categories text[] NOT NULL,
    dimensions text[] NOT NULL CHECK (dimensions <@ ARRAY['all', 'imd_quintile', 'ethnic_group', 'sex', 'age_band']),
    groups     text[] NOT NULL,
    counts     int4[] NOT NULL CHECK (0 <= ALL (counts)),
    CHECK (cardinality(categories) = cardinality(measures) AND cardinality(dimensions) = cardinality(measures)
           AND cardinality(groups) = cardinality(measures) AND cardinality(counts) = cardinality(measures))
);
INSERT INTO population_cells (run_id, measures, categories, dimensions, groups, counts)
SELECT run_id, array_agg(measure ORDER BY measure, category, dimension, grp), array_agg(category ORDER BY measure, category, dimension, grp),
       array_agg(dimension ORDER BY measure, category, dimension, grp), array_agg(grp ORDER BY measure, category, dimension, grp),
       array_agg(value ORDER BY measure, category, dimension, grp)
FROM population_count GROUP BY run_id;
DROP TABLE population_count;
CREATE VIEW population_count AS
SELECT c.run_id, u.measure, u.category, u.dimension, u.grp, u.value
FROM population_cells c
CROSS JOIN LATERAL unnest(c.measures, c.categories, c.dimensions, c.groups, c.counts) AS u (measure, category, dimension, grp, value);

CREATE TABLE population_patient (
    run_id        bigint NOT NULL REFERENCES population_run (id) ON DELETE CASCADE,
    part          integer NOT NULL CHECK (part >= 0),
    extract_id    bigint NOT NULL REFERENCES extract_roster (extract_id),
    segment_ids   text[] NOT NULL,   -- the segmentation model's segments in order; `segment` holds 1-based places in it
    positions     int4[] NOT NULL,   -- rows of the extract's roster: the patients registered on the summary's date
    segment       int4[] NOT NULL,
    frailty       int4[] NOT NULL,   -- 0 not assessed (under 65); 1-4 recorded fit, mild, moderate, severe; 5-8 the same estimated
    frailty_score float8[] NOT NULL, -- eFI score (0 to 1); -1 none (a category code alone, or not assessed)
    qrisk3        float8[] NOT NULL, -- computed QRISK3-2017 in percent, exact; -1 not computed (age, sex, or CVD)
    CHECK (cardinality(segment) = cardinality(positions) AND cardinality(frailty) = cardinality(positions)
           AND cardinality(frailty_score) = cardinality(positions) AND cardinality(qrisk3) = cardinality(positions)),
    PRIMARY KEY (run_id, part)
);
CREATE INDEX population_patient_extract_idx ON population_patient (extract_id);
ALTER TABLE population_patient ALTER COLUMN positions SET STATISTICS 0, ALTER COLUMN segment SET STATISTICS 0,
    ALTER COLUMN frailty SET STATISTICS 0, ALTER COLUMN frailty_score SET STATISTICS 0, ALTER COLUMN qrisk3 SET STATISTICS 0;
DO $$
BEGIN
    ALTER TABLE population_patient ALTER COLUMN positions SET COMPRESSION lz4, ALTER COLUMN segment SET COMPRESSION lz4,
        ALTER COLUMN frailty SET COMPRESSION lz4, ALTER COLUMN frailty_score SET COMPRESSION lz4, ALTER COLUMN qrisk3 SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression not available (%); population patients keep the default', SQLERRM;
END
$$;

CREATE VIEW population_patient_row AS
SELECT p.run_id, r.patients[u.pos + 1] AS patient_id, p.segment_ids[u.seg] AS segment,
       CASE WHEN u.fr BETWEEN 1 AND 4 THEN 'recorded' WHEN u.fr BETWEEN 5 AND 8 THEN 'estimated' END AS frailty_source,
       CASE WHEN u.fr BETWEEN 1 AND 8 THEN (ARRAY['fit', 'mild', 'moderate', 'severe'])[(u.fr - 1) % 4 + 1] END AS frailty_category,
       NULLIF(u.fs, -1) AS efi_score,
       NULLIF(u.q, -1) AS qrisk3_percent
FROM population_patient p
JOIN extract_roster r ON r.extract_id = p.extract_id
CROSS JOIN LATERAL unnest(p.positions, p.segment, p.frailty, p.frailty_score, p.qrisk3) AS u (pos, seg, fr, fs, q);

-- Interventions and their impact (issue 22): a cohort frozen from a worklist at a run (the patients the practice
-- acted on), the comparison group (the rest of the same open denominator, or of the same cohort, at that run), and,
-- for every later run of the same ruleset (or every later extract, for a cohort), how many of each reached the
-- indicator's numerator (or left the cohort), overall and by IMD quintile, ethnic group, sex and age band (the
-- groups as they were when frozen). Computed from the stored patient outcomes by
-- the pipeline (and at creation for runs already stored); the difference and its interval are worked out
-- from these counts wherever they are shown.
CREATE TABLE intervention (
    id            bigserial PRIMARY KEY,
    practice_ods  text NOT NULL REFERENCES organisation (ods_code),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    what_was_done text NOT NULL CHECK (length(what_was_done) <= 2000),
    ruleset_id    text NOT NULL,
    indicator_id  text,                    -- a worklist's indicator: reached = in its numerator
    cohort_id     text,                    -- or a cohort to act on: reached = no longer in the cohort (the gap closed)
    frozen_run_id bigint NOT NULL REFERENCES computation_run (id),
    frozen_on     date NOT NULL,           -- the data-to date of the frozen run's extract
    selection     text NOT NULL,           -- how the cohort was chosen from the worklist, in words
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((indicator_id IS NULL) <> (cohort_id IS NULL))
);
CREATE INDEX intervention_practice_idx ON intervention (practice_ods, ruleset_id);

CREATE TABLE intervention_member (
    intervention_id bigint NOT NULL REFERENCES intervention (id) ON DELETE CASCADE,
    patient_id      text NOT NULL,
    arm             text NOT NULL CHECK (arm IN ('intervention', 'comparison')),
    imd_quintile    text NOT NULL,
    ethnic_group    text NOT NULL,
    sex             text NOT NULL,
    age_band        text NOT NULL,
    PRIMARY KEY (intervention_id, patient_id)
);

CREATE TABLE intervention_result (
    intervention_id    bigint NOT NULL REFERENCES intervention (id) ON DELETE CASCADE,
    run_id             bigint NOT NULL REFERENCES computation_run (id),
    dimension          text NOT NULL CHECK (dimension IN ('all', 'imd_quintile', 'ethnic_group', 'sex', 'age_band')),
    grp                text NOT NULL,
    cohort_n           integer NOT NULL CHECK (cohort_n >= 0),
    cohort_reached     integer NOT NULL CHECK (cohort_reached BETWEEN 0 AND cohort_n),
    comparison_n       integer NOT NULL CHECK (comparison_n >= 0),
    comparison_reached integer NOT NULL CHECK (comparison_reached BETWEEN 0 AND comparison_n),
    PRIMARY KEY (intervention_id, run_id, dimension, grp)
);

-- The roles' grants again: the daemon stores and purges patient-level population health, records interventions
-- (the web view, in the user's name and audited) and follows them with each run.
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
    EXECUTE format('GRANT SELECT, INSERT ON population_run, population_cells TO %I', daemon);
    EXECUTE format('GRANT SELECT ON population_count TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON patient_outcome_set, extract_roster, population_patient TO %I', daemon);   -- DELETE: the retention purge
    EXECUTE format('GRANT SELECT ON population_patient_row TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON intervention, intervention_member, intervention_result TO %I', daemon);
    EXECUTE format('GRANT SELECT ON patient_outcome TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', daemon);                    -- append only
    EXECUTE format('GRANT SELECT ON schema_migrations TO %I, %I', daemon, reader);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', daemon);
    EXECUTE format('GRANT SELECT ON web_user TO %I', daemon);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON web_session TO %I', daemon);
END
$$;
