-- A committed change: one literal in fn_birth_gate ('warning' becomes 'blocking'), and a
-- trigger of dot_tools disabled. The sample store's `after-change` ref holds its result.
CREATE OR REPLACE FUNCTION fn_birth_gate() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    v_mode text := coalesce(current_setting('app.birth_gate_mode', true), 'blocking');
    v_ok boolean := true;
BEGIN
    v_ok := fn_pre_birth_check('code_format', NEW.code ~ '^[A-Z]+-[A-Z0-9-]+$') AND v_ok;
    v_ok := fn_pre_birth_check('name_present', NEW.name IS NOT NULL) AND v_ok;
    v_ok := fn_pre_birth_check('origin_present', NEW._dot_origin IS NOT NULL) AND v_ok;
    v_ok := fn_pre_birth_check('status_known', NEW.status IN ('draft', 'published', 'active', 'retired')) AND v_ok;
    v_ok := fn_pre_birth_check('tier_known', NEW.tier IS NULL OR NEW.tier IN ('A', 'B', 'C', 'D')) AND v_ok;
    IF NOT v_ok AND v_mode = 'blocking' THEN
        RAISE EXCEPTION 'BIRTH_GATE: % rejected', NEW.code;
    END IF;
    RETURN NEW;
END $fn$;
ALTER TABLE dot_tools DISABLE TRIGGER trg_refresh_orphan_dot;
