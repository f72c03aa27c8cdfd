-- The per-run tables are written by COPY, hundreds of rows per run. A foreign key checks every row on
-- its own (a lookup and a row lock each); these triggers check each statement's rows at once, with
-- the same guarantees: a row must name an existing run (locked against deletion, as a foreign key
-- would), and deleting runs deletes their rows.

CREATE FUNCTION check_run_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM computation_run r WHERE r.id IN (SELECT DISTINCT run_id FROM new_rows) FOR KEY SHARE;
    IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM computation_run r WHERE r.id = n.run_id)) THEN
        RAISE foreign_key_violation
            USING MESSAGE = format('insert or update on table "%s" names a computation_run that does not exist', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION delete_run_details() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM register_result WHERE run_id IN (SELECT id FROM old_rows);
    DELETE FROM indicator_result WHERE run_id IN (SELECT id FROM old_rows);
    DELETE FROM rule_count WHERE run_id IN (SELECT id FROM old_rows);
    DELETE FROM patient_outcome_set WHERE run_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;

CREATE FUNCTION refuse_run_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING MESSAGE = 'a computation_run id never changes (its results refer to it)';
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['register_result', 'indicator_result', 'rule_count', 'patient_outcome_set'] LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_run_id_fkey');
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION check_run_references()', t || '_run_inserted', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION check_run_references()', t || '_run_updated', t);
    END LOOP;
END
$$;

CREATE TRIGGER computation_run_deleted AFTER DELETE ON computation_run REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_run_details();
CREATE TRIGGER computation_run_id_kept BEFORE UPDATE OF id ON computation_run
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_run_id_change();
