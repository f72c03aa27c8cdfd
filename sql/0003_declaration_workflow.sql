-- The declare / approve workflow: the current state of each practice's achievement, with every
-- change recorded in the append-only audit log. Declarations themselves are immutable snapshots.

CREATE TABLE declaration_state (
    practice_ods     text NOT NULL REFERENCES organisation (ods_code),
    ruleset_id       text NOT NULL,
    achievement_date date NOT NULL,
    state            text NOT NULL CHECK (state IN (
                         'awaiting_practice_declaration', 'awaiting_commissioner_approval', 'approved', 'returned')),
    declaration_id   bigint REFERENCES declaration (id),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (practice_ods, ruleset_id, achievement_date)
);

CREATE FUNCTION declaration_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'declarations are immutable snapshots: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER declaration_no_update_delete
    BEFORE UPDATE OR DELETE ON declaration
    FOR EACH ROW EXECUTE FUNCTION declaration_is_immutable();

CREATE INDEX audit_log_subject_idx ON audit_log (practice_ods, ruleset_id, achievement_date, id);
