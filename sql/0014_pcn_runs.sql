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

-- The roles' grants for this table are in 0015 (qofd_grant is replaced once for 0013-0015).
