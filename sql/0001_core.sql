-- qofd core schema.
--
-- Designed for year-on-year history: nothing is overwritten. A re-run creates a new computation run;
-- a changed declaration is a new row plus an audit entry. Dates that mean "a day in the QOF year"
-- are `date` (calendar dates, Europe/London); moments are `timestamptz`.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Organisations: practices (ODS codes such as A81001), PCNs (U + 5 digits), commissioners.
CREATE TABLE organisation (
    ods_code    text PRIMARY KEY CHECK (ods_code ~ '^[A-Z0-9]{3,8}$'),
    kind        text NOT NULL CHECK (kind IN ('practice', 'pcn', 'sub_icb', 'icb', 'region')),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_on   date
);

-- A practice's PCN membership, effective-dated; a practice belongs to at most one PCN on any day.
CREATE TABLE pcn_membership (
    practice_ods text NOT NULL REFERENCES organisation (ods_code),
    pcn_ods      text NOT NULL REFERENCES organisation (ods_code),
    valid_from   date NOT NULL,
    valid_to     date,            -- inclusive; NULL = still a member
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (practice_ods, valid_from),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    EXCLUDE USING gist (practice_ods WITH =, daterange(valid_from, valid_to, '[]') WITH &&)
);

-- Every extract received, identified by the SHA-256 of its manifest and files. The row is also the
-- work item that daemon workers lease (status + lease columns).
CREATE TABLE extract (
    id            bigserial PRIMARY KEY,
    sha256        text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    practice_ods  text NOT NULL REFERENCES organisation (ods_code),
    source_name   text NOT NULL,                 -- the inbox directory name, for people
    clinical_system text,
    encoding      text NOT NULL CHECK (encoding IN ('csv', 'fhir-ndjson')),
    extracted_at  timestamptz,
    data_to       date NOT NULL,
    status        text NOT NULL DEFAULT 'received'
                  CHECK (status IN ('received', 'claimed', 'processed', 'rejected')),
    patients      integer,
    events        bigint,
    medications   bigint,
    attempts      integer NOT NULL DEFAULT 0,
    lease_owner   text,
    lease_until   timestamptz,
    last_error    text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX extract_practice_idx ON extract (practice_ods, data_to);
CREATE INDEX extract_claimable_idx ON extract (status, received_at) WHERE status IN ('received', 'claimed');

-- One evaluation of one ruleset over one extract. Re-running creates a new row.
CREATE TABLE computation_run (
    id               bigserial PRIMARY KEY,
    extract_id       bigint REFERENCES extract (id),      -- NULL for runs from imported CQRS counts
    practice_ods     text NOT NULL REFERENCES organisation (ods_code),
    ruleset_id       text NOT NULL,                      -- e.g. qof-2025-26
    ruleset_sha256   text NOT NULL,                      -- exact rule files used
    cluster_version  text NOT NULL,                      -- exact code cluster library used
    achievement_date date NOT NULL,
    list_size        integer NOT NULL CHECK (list_size >= 0),
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    engine_version   text NOT NULL,
    source           text NOT NULL DEFAULT 'extract' CHECK (source IN ('extract', 'cqrs-import'))
);
CREATE INDEX computation_run_practice_idx ON computation_run (practice_ods, ruleset_id, achievement_date, id);
CREATE INDEX computation_run_extract_idx ON computation_run (extract_id);

-- Register sizes per run (HYP_REG, DM_REG, ...).
CREATE TABLE register_result (
    run_id      bigint NOT NULL REFERENCES computation_run (id) ON DELETE CASCADE,
    register_id text NOT NULL,
    size        integer NOT NULL CHECK (size >= 0),
    PRIMARY KEY (run_id, register_id)
);

-- Indicator (or vaccination cohort) results per run, with the payment figures of that run.
CREATE TABLE indicator_result (
    run_id        bigint NOT NULL REFERENCES computation_run (id) ON DELETE CASCADE,
    indicator_id  text NOT NULL,
    register_id   text,
    register_size integer,
    denominator   integer NOT NULL CHECK (denominator >= 0),
    numerator     integer NOT NULL CHECK (numerator >= 0 AND numerator <= denominator),
    achievement   numeric(9, 4),                      -- percent; NULL when the denominator is 0
    points        numeric(9, 4),
    max_points    numeric(9, 4),
    pounds        numeric(14, 2),
    PRIMARY KEY (run_id, indicator_id)
);

-- Per-rule counts as CQRS carries them: each PCA and exclusion field, per indicator per run.
CREATE TABLE rule_count (
    run_id       bigint NOT NULL REFERENCES computation_run (id) ON DELETE CASCADE,
    indicator_id text NOT NULL,
    field_name   text NOT NULL,                       -- e.g. HYPPCADEC, PAT_AGEO79, REG1_DAT9
    field_kind   text NOT NULL CHECK (field_kind IN ('pca', 'exclusion', 'select', 'reject')),
    value        integer NOT NULL CHECK (value >= 0),
    PRIMARY KEY (run_id, indicator_id, field_name)
);

-- What a practice declared: an immutable snapshot of one run's figures with its content hash.
CREATE TABLE declaration (
    id               bigserial PRIMARY KEY,
    practice_ods     text NOT NULL REFERENCES organisation (ods_code),
    ruleset_id       text NOT NULL,
    achievement_date date NOT NULL,
    run_id           bigint NOT NULL REFERENCES computation_run (id),
    state            text NOT NULL CHECK (state IN (
                         'awaiting_practice_declaration', 'awaiting_commissioner_approval',
                         'approved', 'returned')),
    snapshot         jsonb NOT NULL,
    snapshot_sha256  text NOT NULL CHECK (snapshot_sha256 ~ '^[0-9a-f]{64}$'),
    declared_by      text NOT NULL,
    declared_at      timestamptz NOT NULL DEFAULT now(),
    note             text
);
CREATE INDEX declaration_practice_idx ON declaration (practice_ods, ruleset_id, achievement_date, id);

-- Append-only audit trail: every action with who, when, from-state, to-state, note, snapshot hash.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    action          text NOT NULL,
    practice_ods    text,
    ruleset_id      text,
    achievement_date date,
    from_state      text,
    to_state        text,
    note            text,
    snapshot_sha256 text,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
