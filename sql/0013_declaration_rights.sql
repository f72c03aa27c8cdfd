-- Declaring on the web: an account may hold the right to declare (a practice user for their practice; a
-- PCN's nominated person for the PCN) or to approve and return (a commissioner), never both. One column
-- holds the right, so "one, not both" is a property of the table, and the right must fit the role.

ALTER TABLE web_user
    ADD COLUMN declaration_right text CHECK (declaration_right IN ('declare', 'approve')),
    ADD CONSTRAINT web_user_right_fits_role CHECK (
        declaration_right IS NULL
        OR (declaration_right = 'declare' AND role IN ('practice', 'pcn'))
        OR (declaration_right = 'approve' AND role = 'commissioner'));

-- The roles' grants (the reader's view of the new column) are in 0015 (qofd_grant is replaced once for 0013-0015).
