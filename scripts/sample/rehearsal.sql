-- A rollback-only rehearsal of a maintenance macro: register a DOT (the INSERT fans out
-- through the 13 triggers of dot_tools), disable a trigger, and roll everything back.
BEGIN;
INSERT INTO dot_tools (name, status, tier, _dot_origin) VALUES ('Dry coverage scanner', 'published', NULL, 'DIRECTUS');
SELECT (SELECT count(*) FROM dot_tools) AS dot_tools_in_txn, (SELECT count(*) FROM birth_registry) AS births_in_txn;
ALTER TABLE dot_tools DISABLE TRIGGER trg_refresh_orphan_dot;
ROLLBACK;
