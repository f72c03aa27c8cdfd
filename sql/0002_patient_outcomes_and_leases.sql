-- Per-patient outcomes for worklists and explanations, and what the daemon needs to share work.

-- One row per patient per indicator per run: where the patient ended up and the deciding rule.
-- Patient-level data: kept for the current and previous QOF year by default, then purged.
CREATE TABLE patient_outcome (
    run_id       bigint NOT NULL REFERENCES computation_run (id) ON DELETE CASCADE,
    indicator_id text NOT NULL,
    patient_id   text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('numerator', 'denominator', 'pca', 'excluded')),
    rule         text,
    field_name   text,
    PRIMARY KEY (run_id, indicator_id, patient_id)
);

-- Patients not on an indicator's register are not stored (the register says who is).

-- The ruleset versions a run used, so a changed ruleset or cluster library triggers recomputation.
ALTER TABLE computation_run ADD COLUMN worker text;
CREATE UNIQUE INDEX computation_run_once_idx
    ON computation_run (extract_id, ruleset_id, ruleset_sha256, cluster_version, achievement_date)
    WHERE extract_id IS NOT NULL;

-- Live workers and their heartbeats (for operations: which daemons are running).
CREATE TABLE worker (
    id           text PRIMARY KEY,
    hostname     text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    version      text NOT NULL
);
