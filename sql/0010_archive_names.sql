-- Where each processed extract lies in the archive, decided with its row: `archive/<ODS>/<archive_name>`.
-- A corrected extract delivered under a name already archived gets its own name (`NAME.<id>`), and every
-- reader (web view, recompute) takes the path from here, never from the delivery's directory name.
ALTER TABLE extract ADD COLUMN archive_name text CHECK (archive_name !~ '/' AND archive_name NOT IN ('', '.', '..'));

-- Earlier qofd archived a repeated name as NAME.2, NAME.3, … in the order extracts were processed.
WITH named AS (
    SELECT id, source_name, row_number() OVER (PARTITION BY practice_ods, source_name ORDER BY finished_at, id) AS n
    FROM extract WHERE status = 'processed'
)
UPDATE extract e SET archive_name = CASE WHEN named.n = 1 THEN named.source_name ELSE named.source_name || '.' || named.n END
FROM named WHERE named.id = e.id;

CREATE UNIQUE INDEX extract_archive_name_idx ON extract (practice_ods, archive_name) WHERE archive_name IS NOT NULL;
