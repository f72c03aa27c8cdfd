-- Per-patient outcomes, stored compactly: one row per run, indicator, outcome and deciding rule, with
-- the patients in an array. The same facts as one row per patient, at a fraction of the write cost
-- (a practice's LIST-based indicators and flu cohorts hold a row for nearly every patient). The old
-- shape stays readable as the view `patient_outcome`.

CREATE TABLE patient_outcome_set (
    run_id       bigint NOT NULL REFERENCES computation_run (id) ON DELETE CASCADE,
    indicator_id text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('numerator', 'denominator', 'pca', 'excluded')),
    rule         text,
    field_name   text,
    patients     text[] NOT NULL
);
CREATE INDEX patient_outcome_set_run_idx ON patient_outcome_set (run_id, indicator_id);

INSERT INTO patient_outcome_set (run_id, indicator_id, outcome, rule, field_name, patients)
SELECT run_id, indicator_id, outcome, rule, field_name, array_agg(patient_id ORDER BY patient_id)
FROM patient_outcome GROUP BY run_id, indicator_id, outcome, rule, field_name;

DROP TABLE patient_outcome;

CREATE VIEW patient_outcome AS
SELECT s.run_id, s.indicator_id, p.patient_id, s.outcome, s.rule, s.field_name
FROM patient_outcome_set s CROSS JOIN LATERAL unnest(s.patients) AS p (patient_id);
