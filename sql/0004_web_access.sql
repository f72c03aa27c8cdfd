-- The web view's accounts and sessions.
--
-- A user sees what their role allows: a practice user their practice, a PCN lead the PCN's member
-- practices, a commissioner every practice. Patient-identifiable pages need `patient_access` as well,
-- and every such page view is written to the audit log.

CREATE TABLE web_user (
    username       text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
    role           text NOT NULL CHECK (role IN ('practice', 'pcn', 'commissioner')),
    scope          text REFERENCES organisation (ods_code),  -- the practice or PCN; NULL for a commissioner
    patient_access boolean NOT NULL DEFAULT false,
    password_hash  text,                                     -- bcrypt; NULL: proxy sign-in only
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'commissioner') = (scope IS NULL))
);

-- Signed-in sessions. Only the SHA-256 of the session token is stored, so a database reader cannot
-- take over a session; the CSRF token is per session.
CREATE TABLE web_session (
    token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    username     text NOT NULL REFERENCES web_user (username) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX web_session_expiry_idx ON web_session (expires_at);
