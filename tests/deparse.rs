//! Definitions driftgate builds itself (constraints, indexes, triggers: see
//! `src/catalog/kinds/deparse.rs`) are byte for byte what the server's `pg_get_constraintdef`,
//! `pg_get_indexdef` and `pg_get_triggerdef` print, over every shape the builders handle and
//! the ones they hand back to the server: keyword and mixed-case names, quotes, INCLUDE,
//! DESC / NULLS, collations, non-default operator classes, expression and partial indexes,
//! storage options, partitioned tables, every foreign-key action and match type, deferral,
//! NOT VALID, cross-schema references, every trigger timing, event mix, UPDATE OF, transition
//! tables, constraint triggers with FROM, arguments with quotes and backslashes, WHEN clauses
//! and functions in pg_catalog. `scripts/test-matrix.sh` runs it on PostgreSQL 13 to 18.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use support::*;

const SHAPES: &str = r#"
CREATE SCHEMA "Odd Schema";
CREATE SCHEMA other;
CREATE TABLE other.parent (id int PRIMARY KEY, code text UNIQUE, a int, b int, UNIQUE (a, b));
CREATE TABLE "Odd Schema"."User" (
    "select" int NOT NULL,
    "Mixed Case" text COLLATE "C",
    "quote""d" text,
    user_id int,
    code text,
    a int, b int,
    payload jsonb,
    ts timestamptz DEFAULT now(),
    CONSTRAINT "User_pkey" PRIMARY KEY ("select"),
    CONSTRAINT u_incl UNIQUE (code) INCLUDE (a),
    CONSTRAINT u_two UNIQUE ("Mixed Case", "quote""d") DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT fk_full FOREIGN KEY (a, b) REFERENCES other.parent (a, b) MATCH FULL
        ON UPDATE CASCADE ON DELETE SET DEFAULT,
    CONSTRAINT fk_plain FOREIGN KEY (user_id) REFERENCES other.parent (id),
    CONSTRAINT fk_restrict FOREIGN KEY (code) REFERENCES other.parent (code)
        ON UPDATE RESTRICT ON DELETE CASCADE DEFERRABLE,
    CONSTRAINT c_check CHECK ("select" > 0 AND a IS DISTINCT FROM b)
);
ALTER TABLE "Odd Schema"."User" ADD CONSTRAINT fk_not_valid
    FOREIGN KEY (b) REFERENCES other.parent (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE "Odd Schema"."User" ADD CONSTRAINT fk_self
    FOREIGN KEY (user_id) REFERENCES "Odd Schema"."User" ("select") ON DELETE NO ACTION;
CREATE INDEX i_plain ON "Odd Schema"."User" (code);
CREATE INDEX "I Desc" ON "Odd Schema"."User" ("select" DESC, a NULLS FIRST, b DESC NULLS LAST);
CREATE UNIQUE INDEX i_incl ON "Odd Schema"."User" (a) INCLUDE (b, "quote""d");
CREATE INDEX i_collate ON "Odd Schema"."User" (code COLLATE "C");
CREATE INDEX i_same_collation ON "Odd Schema"."User" ("Mixed Case" COLLATE "C");
CREATE INDEX i_opclass ON "Odd Schema"."User" (code text_pattern_ops);
CREATE INDEX i_expr ON "Odd Schema"."User" (lower(code), (a + b));
CREATE INDEX i_partial ON "Odd Schema"."User" (a) WHERE b > 0;
CREATE INDEX i_options ON "Odd Schema"."User" (b) WITH (fillfactor = 70);
CREATE INDEX i_hash ON "Odd Schema"."User" USING hash (code);
CREATE INDEX i_gin ON "Odd Schema"."User" USING gin (payload);
CREATE INDEX i_gin_ops ON "Odd Schema"."User" USING gin (payload jsonb_path_ops);
CREATE INDEX i_brin ON "Odd Schema"."User" USING brin (ts);
CREATE TABLE other.part (id int, k int, note varchar(20)) PARTITION BY RANGE (k);
CREATE TABLE other.part_1 PARTITION OF other.part FOR VALUES FROM (0) TO (10);
CREATE INDEX part_idx ON other.part (k, id);
CREATE INDEX part_varchar ON other.part (note);
CREATE DOMAIN other.posint AS int CHECK (VALUE > 0);
CREATE TABLE other.dom (v other.posint, arr int[]);
CREATE INDEX dom_idx ON other.dom (v);
CREATE INDEX arr_idx ON other.dom (arr);
CREATE VIEW other.v AS SELECT id, code FROM other.parent;
CREATE MATERIALIZED VIEW other.mv AS SELECT id, code FROM other.parent;
CREATE INDEX mv_idx ON other.mv (code DESC);

CREATE FUNCTION other.trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION "Odd Schema"."Trg Fn"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_before BEFORE INSERT ON "Odd Schema"."User"
    FOR EACH ROW EXECUTE FUNCTION "Odd Schema"."Trg Fn"();
CREATE TRIGGER "T After Mix" AFTER INSERT OR UPDATE OF "select", "quote""d", a OR DELETE OR TRUNCATE
    ON "Odd Schema"."User" FOR EACH STATEMENT EXECUTE FUNCTION other.trg('it''s', 'back\slash', '', 'x y');
CREATE TRIGGER t_update_only AFTER UPDATE ON "Odd Schema"."User"
    FOR EACH ROW EXECUTE FUNCTION other.trg();
CREATE TRIGGER t_when AFTER UPDATE OF code ON "Odd Schema"."User"
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code AND NEW."select" > 0)
    EXECUTE FUNCTION other.trg('when');
CREATE TRIGGER t_transition AFTER INSERT ON "Odd Schema"."User"
    REFERENCING NEW TABLE AS "New Rows" FOR EACH STATEMENT EXECUTE FUNCTION other.trg();
CREATE TRIGGER t_transition_upd AFTER UPDATE ON "Odd Schema"."User"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH ROW EXECUTE FUNCTION other.trg();
CREATE CONSTRAINT TRIGGER t_constraint AFTER INSERT OR UPDATE ON "Odd Schema"."User"
    FROM other.parent DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION other.trg();
CREATE CONSTRAINT TRIGGER t_constraint_now AFTER DELETE ON "Odd Schema"."User"
    NOT DEFERRABLE FOR EACH ROW EXECUTE FUNCTION other.trg('a');
CREATE TRIGGER t_catalog_fn BEFORE UPDATE ON "Odd Schema"."User"
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE TRIGGER t_view INSTEAD OF INSERT ON other.v FOR EACH ROW EXECUTE FUNCTION other.trg();
CREATE TRIGGER t_part BEFORE INSERT ON other.part_1 FOR EACH ROW EXECUTE FUNCTION other.trg();
ALTER TABLE "Odd Schema"."User" DISABLE TRIGGER t_update_only;
"#;

/// `schema\x1fname\x1fdefinition` rows from the server, keyed by (schema, name).
fn server_defs(db: &TestDb, sql: &str) -> BTreeMap<(String, String), String> {
    db.sql(sql)
        .split('\x1e')
        .map(|row| row.trim_start_matches('\n'))
        .filter(|row| !row.is_empty())
        .map(|row| {
            let mut parts = row.splitn(3, '\x1f');
            let schema = parts.next().unwrap().to_string();
            let name = parts.next().unwrap().to_string();
            let def = parts.next().expect("a definition").to_string();
            ((schema, name), def)
        })
        .collect()
}

fn snapshot_defs(objects: &[Value], kind: &str) -> BTreeMap<(String, String), String> {
    objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .map(|o| {
            (
                (
                    o["schema"].as_str().unwrap().to_string(),
                    o["name"].as_str().unwrap().to_string(),
                ),
                o["definition"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const ROW_END: &str = "|| E'\\x1e'";

#[test]
fn built_definitions_are_the_servers_byte_for_byte() {
    let db = empty_db("deparse");
    let mut shapes = SHAPES.to_string();
    if db.cluster.version_num >= 150000 {
        shapes.push_str(
            r#"CREATE TABLE other.nnd (a int, b int, CONSTRAINT nnd_u UNIQUE NULLS NOT DISTINCT (a));
               CREATE UNIQUE INDEX nnd_idx ON other.nnd (b) NULLS NOT DISTINCT;
               ALTER TABLE other.nnd ADD CONSTRAINT nnd_fk FOREIGN KEY (a, b)
                   REFERENCES other.parent (a, b) ON DELETE SET NULL (b);"#,
        );
    }
    db.sql(&shapes);
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn, "--ref", "s"]);
    assert_eq!(r.code, 0, "{r:?}");
    let file = store.path().join("export.json");
    let r = driftgate(store.path(), &["export", "s", "-o", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let exported: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let objects: Vec<Value> = match &exported["objects"] {
        Value::Array(list) => list.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                v["key"] = Value::String(k.clone());
                v
            })
            .collect(),
        other => panic!("unexpected objects: {other}"),
    };

    let user = "n.nspname IN ('Odd Schema', 'other')";
    let constraints = server_defs(
        &db,
        &format!(
            "SELECT n.nspname || E'\\x1f' || con.conname || E'\\x1f' || pg_get_constraintdef(con.oid) {ROW_END} \
             FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace \
             WHERE {user} AND con.contype IN ('p', 'u', 'f', 'c', 'x') AND con.conrelid <> 0 \
               AND con.conparentid = 0"
        ),
    );
    let indexes = server_defs(
        &db,
        &format!(
            "SELECT n.nspname || E'\\x1f' || c.relname || E'\\x1f' || pg_get_indexdef(i.indexrelid) {ROW_END} \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {user} AND NOT EXISTS (SELECT 1 FROM pg_constraint con \
                 WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))"
        ),
    );
    let triggers = server_defs(
        &db,
        &format!(
            "SELECT n.nspname || E'\\x1f' || t.tgname || E'\\x1f' || pg_get_triggerdef(t.oid) {ROW_END} \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {user} AND NOT t.tgisinternal AND t.tgparentid = 0"
        ),
    );

    for (kind, server, min) in [
        ("constraint", &constraints, 12),
        ("index", &indexes, 18),
        ("trigger", &triggers, 11),
    ] {
        let ours = snapshot_defs(&objects, kind);
        assert!(
            server.len() >= min,
            "{kind}: the fixture has only {} on the server",
            server.len()
        );
        for ((schema, name), def) in server {
            let got = ours
                .get(&(schema.clone(), name.clone()))
                .unwrap_or_else(|| panic!("{kind} {schema}.{name} missing from the snapshot"));
            assert_eq!(got, def, "{kind} {schema}.{name}");
        }
        assert_eq!(ours.len(), server.len(), "{kind}: {:?}", ours.keys());
    }

    // The WHEN clause is cut out of the server's text exactly, and the column lists and
    // arguments read back as the catalog has them.
    let t_when = objects
        .iter()
        .find(|o| o["kind"] == "trigger" && o["name"] == "t_when")
        .unwrap();
    assert_eq!(
        t_when["when"],
        "((old.code IS DISTINCT FROM new.code) AND (new.\"select\" > 0))"
    );
    let mix = objects
        .iter()
        .find(|o| o["kind"] == "trigger" && o["name"] == "T After Mix")
        .unwrap();
    assert_eq!(
        mix["update_columns"],
        serde_json::json!(["a", "quote\"d", "select"])
    );
    assert_eq!(
        mix["arguments"],
        serde_json::json!(["it's", "back\\slash", "", "x y"])
    );
    let fk = objects
        .iter()
        .find(|o| o["kind"] == "constraint" && o["name"] == "fk_full")
        .unwrap();
    assert_eq!(fk["columns"], serde_json::json!(["a", "b"]));
    assert_eq!(
        fk["foreign_key"]["ref_columns"],
        serde_json::json!(["a", "b"])
    );
}
