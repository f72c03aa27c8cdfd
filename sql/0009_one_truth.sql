-- One truth: every figure an output shows is computed once by the pipeline and stored with the run.
-- Reports, pages, exports and commands read these columns; none of them recomputes money or counts.

-- Per indicator: the payment figures, the thresholds or target the run was measured against, and how
-- complete the code lists behind the figure were.
ALTER TABLE indicator_result
    ADD COLUMN pounds_available        numeric(14, 2),
    ADD COLUMN pounds_at_stake         numeric(14, 2),         -- NULL when the figure cannot be computed
    ADD COLUMN patients_for_next_point integer CHECK (patients_for_next_point >= 0),
    ADD COLUMN points_removed          boolean NOT NULL DEFAULT false,  -- the group's register is empty
    ADD COLUMN list_size_factor        float8,
    ADD COLUMN prevalence_factor       float8,
    ADD COLUMN lower_threshold         numeric(7, 3),
    ADD COLUMN upper_threshold         numeric(7, 3),
    ADD COLUMN target                  numeric(7, 3),          -- vaccination cohorts: uptake target in percent
    ADD COLUMN completeness            text NOT NULL DEFAULT 'complete'
                                       CHECK (completeness IN ('complete', 'stand-in', 'missing')),
    ADD COLUMN computable              boolean NOT NULL DEFAULT true,
    ADD COLUMN completeness_direction  text CHECK (completeness_direction IN ('understated', 'overstated', 'either', 'counts-only')),
    ADD COLUMN missing_clusters        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN stand_in_clusters       text[] NOT NULL DEFAULT '{}';

-- Per run: the practice's totals as paid, and last year's year-end pounds with the aspiration paid on them.
ALTER TABLE computation_run
    ADD COLUMN ruleset_family      text,                       -- qof, flu, shingles: last year's run is of the same family
    ADD COLUMN payment_year        text,                       -- the national figures used; NULL without pounds
    ADD COLUMN points_achieved     numeric(9, 4),
    ADD COLUMN points_available    numeric(9, 4),
    ADD COLUMN pounds              numeric(14, 2),
    ADD COLUMN pounds_available    numeric(14, 2),
    ADD COLUMN pounds_at_stake     numeric(14, 2),             -- over the indicators that can be computed
    ADD COLUMN pounds_not_assessed numeric(14, 2),             -- still to earn where code lists are missing
    ADD COLUMN last_year_pounds    numeric(14, 2),
    ADD COLUMN aspiration          numeric(14, 2),
    ADD COLUMN unverified_figures  text[] NOT NULL DEFAULT '{}';

UPDATE computation_run SET ruleset_family = split_part(ruleset_id, '-', 1);

-- The exact rule text each run used, by its SHA-256 (computation_run.ruleset_sha256), so a stored run is
-- always read with its own rules, whatever is configured now.
CREATE TABLE ruleset_version (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    ruleset_id text NOT NULL,
    rule_text  text NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now()
);

-- How many patients each rule of each chain selected or rejected (the rule funnel), kept apart from the
-- CQRS fields in rule_count.
CREATE TABLE rule_step_count (
    run_id       bigint NOT NULL,
    indicator_id text NOT NULL,
    chain        text NOT NULL CHECK (chain IN ('denominator', 'numerator')),
    rule_number  integer NOT NULL CHECK (rule_number > 0),
    action       text NOT NULL CHECK (action IN ('select', 'reject')),
    field_name   text,
    value        integer NOT NULL CHECK (value >= 0),
    PRIMARY KEY (run_id, indicator_id, chain, rule_number, action)
);
CREATE TRIGGER rule_step_count_run_inserted AFTER INSERT ON rule_step_count REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_run_references();
CREATE TRIGGER rule_step_count_run_updated AFTER UPDATE ON rule_step_count REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_run_references();

INSERT INTO rule_step_count (run_id, indicator_id, chain, rule_number, action, value)
SELECT run_id, indicator_id,
       CASE WHEN field_name LIKE 'DEN%' THEN 'denominator' ELSE 'numerator' END,
       substring(field_name FROM '^(?:DEN|NUM)([0-9]+)_')::integer,
       lower(substring(field_name FROM '_(SELECT|REJECT)$')), value
FROM rule_count WHERE field_kind IN ('select', 'reject') AND field_name ~ '^(DEN|NUM)[0-9]+_(SELECT|REJECT)$';
DELETE FROM rule_count WHERE field_kind IN ('select', 'reject') AND field_name ~ '^(DEN|NUM)[0-9]+_(SELECT|REJECT)$';
-- What is left of select/reject are a vaccination cohort's named counts: tallies, not exclusions.
UPDATE rule_count SET field_kind = 'tally' WHERE field_kind IN ('select', 'reject');
ALTER TABLE rule_count DROP CONSTRAINT rule_count_field_kind_check;
ALTER TABLE rule_count ADD CONSTRAINT rule_count_field_kind_check CHECK (field_kind IN ('pca', 'exclusion', 'tally'));

CREATE OR REPLACE FUNCTION delete_run_details() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM register_result WHERE run_id IN (SELECT id FROM old_rows);
    DELETE FROM indicator_result WHERE run_id IN (SELECT id FROM old_rows);
    DELETE FROM rule_count WHERE run_id IN (SELECT id FROM old_rows);
    DELETE FROM rule_step_count WHERE run_id IN (SELECT id FROM old_rows);
    DELETE FROM patient_outcome_set WHERE run_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;
