//! The cluster and database around the schema (issue 13): database and role settings,
//! roles, memberships, the database's properties, the server's configured settings and
//! the tablespaces are in every snapshot, a change of each BLOCKs, a database and its
//! clone under another name compare equal, and a secret-looking setting's value reaches no
//! file of the store.

mod support;

use serde_json::Value;
use support::{driftgate, private_cluster, Cluster, TestDb};

fn snapshot(store: &std::path::Path, db: &TestDb, extra: &[&str]) -> String {
    let mut args = vec!["snapshot", "--dsn", &db.dsn];
    args.extend_from_slice(extra);
    let r = driftgate(store, &args);
    assert_eq!(r.code, 0, "snapshot: {}", r.all());
    r.stdout.trim().to_string()
}

/// The gate's JSON for `base` against a fresh snapshot of `db`.
fn gate_against_live(store: &std::path::Path, db: &TestDb, base: &str) -> (i32, Value) {
    let head = snapshot(store, db, &[]);
    let r = driftgate(store, &["gate", base, &head, "--format", "json"]);
    let json: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("gate JSON: {e}: {}", r.all()));
    (r.code, json)
}

/// The finding on `key`, with the fields it names.
fn finding<'a>(gate: &'a Value, key: &str) -> Option<&'a Value> {
    gate["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
}

fn assert_blocks(gate: &Value, code: i32, key: &str, field: &str, what: &str) {
    assert_eq!(code, 1, "{what}: exit code, gate {gate:#}");
    assert_eq!(gate["verdict"], "BLOCK", "{what}: {gate:#}");
    let f = finding(gate, key).unwrap_or_else(|| panic!("{what}: no finding on {key}: {gate:#}"));
    assert_eq!(f["severity"], "block", "{what}: {f:#}");
    if f["change"] == "changed" {
        let fields: Vec<&str> = f["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            fields
                .iter()
                .any(|x| x.split(['.', '[']).next() == Some(field)),
            "{what}: {key} names {fields:?}, not {field}"
        );
    }
}

/// The seeds' case and one ALTER of each family: each is drift that BLOCKs, named by its key.
#[test]
fn each_family_of_globals_change_is_reported_and_blocks() {
    let db = support::empty_db("globals_alter");
    let name = db.name.clone();
    let role = format!("gl_reader_{}", std::process::id());
    let owner = format!("gl_owner_{}", std::process::id());
    let space = format!("gl_space_{}", std::process::id());
    db.sql(&format!(
        "CREATE ROLE {role} NOLOGIN; CREATE ROLE {owner} NOLOGIN; \
         ALTER DATABASE \"{name}\" SET app.birth_gate_mode = 'warning'; \
         ALTER ROLE {role} IN DATABASE \"{name}\" SET search_path = public;"
    ));
    let store = tempfile::tempdir().unwrap();
    let base = snapshot(store.path(), &db, &[]);

    let cases: Vec<(String, String, &str, &str)> = vec![
        (
            format!("ALTER DATABASE \"{name}\" SET app.birth_gate_mode = 'blocking'"),
            "setting:@db/app.birth_gate_mode".into(),
            "value",
            "database setting",
        ),
        (
            format!("ALTER ROLE {role} IN DATABASE \"{name}\" SET search_path = audit, public"),
            format!("setting:@db/{role}/search_path"),
            "value",
            "role setting in this database",
        ),
        (
            format!("ALTER ROLE {role} SET work_mem = '64MB'"),
            format!("setting:{role}/work_mem"),
            "value",
            "role setting everywhere (added)",
        ),
        (
            format!("ALTER ROLE {role} LOGIN CONNECTION LIMIT 3"),
            format!("role:{role}"),
            "login",
            "role attributes",
        ),
        (
            format!("GRANT {owner} TO {role}"),
            format!("role_membership:{owner}/{role}/by:postgres"),
            "",
            "membership (added)",
        ),
        (
            format!("ALTER DATABASE \"{name}\" CONNECTION LIMIT 7"),
            "database:@db".into(),
            "connection_limit",
            "database property",
        ),
        (
            // CREATE TABLESPACE needs an empty directory of the server's OS user and no
            // transaction block: made by the server (COPY TO PROGRAM), run by \gexec.
            format!(
                "SELECT format('COPY (SELECT WHERE false) TO PROGRAM %L', 'mkdir -p ' || \
                   regexp_replace(current_setting('data_directory'), '/[^/]+$', '') || '/{space}') \\gexec\n\
                 SELECT format('CREATE TABLESPACE {space} LOCATION %L', \
                   regexp_replace(current_setting('data_directory'), '/[^/]+$', '') || '/{space}') \\gexec"
            ),
            format!("tablespace:{space}"),
            "",
            "tablespace (added)",
        ),
        (
            format!("ALTER TABLESPACE {space} SET (seq_page_cost = 3)"),
            format!("tablespace:{space}"),
            "options",
            "tablespace options",
        ),
        (
            format!("ALTER TABLESPACE {space} OWNER TO {owner}"),
            format!("tablespace:{space}"),
            "owner",
            "tablespace owner",
        ),
    ];
    let mut last = base;
    for (sql, key, field, what) in cases {
        db.sql(&sql);
        let (code, gate) = gate_against_live(store.path(), &db, &last);
        assert_blocks(&gate, code, &key, field, what);
        last = snapshot(store.path(), &db, &[]);
    }
    db.sql(&format!("DROP OWNED BY {role}; REVOKE {owner} FROM {role}"));
    db.cluster.sql(
        "postgres",
        &format!(
            "DROP DATABASE \"{name}\"; DROP TABLESPACE {space}; DROP ROLE {role}; DROP ROLE {owner}"
        ),
    );
}

/// Settings and properties applied by one script, run in whichever database it is given.
const DATABASE_SETUP: &str = "DO $$ BEGIN \
    EXECUTE format('ALTER DATABASE %I SET app.birth_gate_mode = %L', current_database(), 'blocking'); \
    EXECUTE format('ALTER DATABASE %I SET app.jwt_secret = %L', current_database(), 'jwt-S3CRET-d0-not-store'); \
    EXECUTE format('ALTER ROLE gl_app IN DATABASE %I SET search_path = public', current_database()); \
    EXECUTE format('ALTER DATABASE %I CONNECTION LIMIT 40', current_database()); \
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO gl_app', current_database()); \
    EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), 'governance'); \
    EXECUTE format('ALTER DATABASE %I SET app.greeting = %L', current_database(), 'visible-M4RKER'); \
    END $$;";

fn fingerprints(store: &std::path::Path, snap: &str) -> Vec<String> {
    let r = driftgate(
        store,
        &[
            "fingerprint",
            snap,
            "--scope",
            "catalog",
            "--scope",
            "roles",
            "--scope",
            "settings",
            "--scope",
            "database",
            "--scope",
            "tablespaces",
        ],
    );
    assert_eq!(r.code, 0, "fingerprint: {}", r.all());
    r.stdout.lines().map(str::to_string).collect()
}

fn create_db(cluster: &'static Cluster, name: &str) -> TestDb {
    cluster.sql("postgres", &format!("CREATE DATABASE \"{name}\""));
    TestDb {
        name: name.to_string(),
        dsn: cluster.dsn(name),
        cluster,
    }
}

/// Must show 5: production `directus` and its clone `directus_gov_test_20260602`, made by
/// the same SQL, fingerprint equal with settings, roles and the database's properties in;
/// the secret-looking setting's value is in no file of the store, and a server-level
/// `session_replication_role = replica` is visible and BLOCKs.
#[test]
fn a_database_and_its_clone_under_another_name_fingerprint_equal_and_no_secret_is_stored() {
    // A cluster of its own: roles are the cluster's, and another test's role must not
    // appear between the two snapshots.
    let cluster = private_cluster(None);
    cluster.sql("postgres", "CREATE ROLE gl_app LOGIN; CREATE ROLE gl_admin NOLOGIN; GRANT gl_admin TO gl_app; ALTER ROLE gl_app SET app.api_token = 'tok-S3CRET-role-level'");
    let fixture = std::fs::read_to_string(support::FIXTURE).unwrap();
    let prod = create_db(cluster, "directus");
    let clone = create_db(cluster, "directus_gov_test_20260602");
    for db in [&prod, &clone] {
        db.sql(&fixture);
        db.sql(DATABASE_SETUP);
    }
    let store = tempfile::tempdir().unwrap();
    let a = snapshot(store.path(), &prod, &[]);
    let b = snapshot(store.path(), &clone, &[]);
    assert_ne!(a, b, "two snapshots, two ids (their sources differ)");
    let (fa, fb) = (
        fingerprints(store.path(), &a),
        fingerprints(store.path(), &b),
    );
    assert_eq!(fa, fb, "production and its clone");
    let d = driftgate(store.path(), &["diff", &a, &b]);
    assert_eq!(d.code, 0, "diff of a database and its clone: {}", d.all());

    // The settings are there, the secrets' names are, their values are not.
    let show = driftgate(
        store.path(),
        &["show", &a, "--kind", "setting", "--format", "json"],
    );
    assert_eq!(show.code, 0, "{}", show.all());
    let settings: Vec<Value> = serde_json::from_str(&show.stdout).unwrap();
    let by_key = |k: &str| settings.iter().find(|s| s["key"] == k).cloned();
    assert_eq!(
        by_key("setting:@db/app.birth_gate_mode").expect("the seeds' setting")["value"],
        "blocking"
    );
    for key in ["setting:@db/app.jwt_secret", "setting:gl_app/app.api_token"] {
        let s = by_key(key).unwrap_or_else(|| panic!("{key} in {settings:#?}"));
        assert_eq!(s["value_removed"], true, "{s:#}");
        assert!(s.get("value").is_none(), "{s:#}");
    }
    assert!(by_key("setting:@db/gl_app/search_path").is_some());
    // The store keeps values as plain JSON: the control value beside the secrets is found,
    // so a secret stored the same way would be too.
    let mut control_found = false;
    for file in support::files_under(store.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        control_found |= text.contains("visible-M4RKER");
        for secret in ["S3CRET", "jwt-S3CRET-d0-not-store", "tok-S3CRET-role-level"] {
            assert!(!text.contains(secret), "{secret} in {}", file.display());
        }
    }
    assert!(
        control_found,
        "the non-secret control value is in no file of the store"
    );
    let membership = driftgate(store.path(), &["show", &a, "--kind", "role_membership"]);
    assert!(
        membership
            .stdout
            .contains("role_membership:gl_admin/gl_app/by:postgres"),
        "{}",
        membership.all()
    );

    // Server level: silently disables every ordinary trigger, so it must be seen.
    cluster.sql(
        "postgres",
        "ALTER SYSTEM SET session_replication_role = replica; SELECT pg_reload_conf()",
    );
    support::wait_until(std::time::Duration::from_secs(10), "the reload", || {
        prod.query("SELECT current_setting('session_replication_role')") == "replica"
    });
    let (code, gate) = gate_against_live(store.path(), &prod, &a);
    assert_blocks(
        &gate,
        code,
        "server_setting:session_replication_role",
        "",
        "ALTER SYSTEM",
    );
    let f = finding(&gate, "server_setting:session_replication_role").unwrap();
    assert_eq!(f["change"], "added", "{f:#}");
    cluster.sql(
        "postgres",
        "ALTER SYSTEM RESET session_replication_role; SELECT pg_reload_conf()",
    );
}

/// Two servers of the same configuration (different ports, data and socket directories)
/// compare equal on their server settings and roles.
#[test]
fn two_clusters_with_the_same_configuration_compare_equal() {
    let one = private_cluster(None);
    let two = private_cluster(None);
    assert_ne!(one.port, two.port);
    let store = tempfile::tempdir().unwrap();
    let snaps: Vec<String> = [one, two]
        .into_iter()
        .map(|c| snapshot(store.path(), &create_db(c, "same_config"), &[]))
        .collect();
    let scopes = |s: &str| {
        let r = driftgate(
            store.path(),
            &[
                "fingerprint",
                s,
                "--scope",
                "settings",
                "--scope",
                "roles",
                "--scope",
                "database",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.all());
        r.stdout
    };
    assert_eq!(scopes(&snaps[0]), scopes(&snaps[1]));
    let show = driftgate(
        store.path(),
        &["show", &snaps[0], "--kind", "server_setting"],
    );
    assert!(
        show.stdout.contains("server_setting:work_mem")
            || show.stdout.contains("server_setting:max_connections"),
        "the harness's configuration is captured: {}",
        show.all()
    );
    // A role without pg_read_all_settings is not shown which file set a value: recorded
    // as such, never as empty or guessed.
    let db = create_db(one, "same_config_plain");
    one.sql("postgres", "CREATE ROLE gl_plain LOGIN");
    let plain = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn_as("gl_plain")]);
    assert_eq!(plain.code, 0, "{}", plain.all());
    let settings = driftgate(
        store.path(),
        &[
            "show",
            plain.stdout.trim(),
            "--kind",
            "server_setting",
            "--format",
            "json",
        ],
    );
    let settings: Vec<Value> = serde_json::from_str(&settings.stdout).unwrap();
    let max_connections = settings
        .iter()
        .find(|s| s["key"] == "server_setting:max_connections")
        .unwrap_or_else(|| panic!("max_connections in {settings:#?}"));
    assert_eq!(
        max_connections["source"], "not readable by this role",
        "{max_connections:#}"
    );
    for per_server in [
        "server_setting:port",
        "server_setting:data_directory",
        "server_setting:unix_socket_directories",
    ] {
        assert!(
            !show.stdout.contains(per_server),
            "{per_server}: {}",
            show.all()
        );
    }
}

/// `--no-globals` leaves the cluster and database out, and their scopes then match
/// nothing (exit 2) instead of hashing an empty set.
#[test]
fn no_globals_leaves_them_out_and_their_scopes_match_nothing() {
    let db = support::empty_db("globals_off");
    let store = tempfile::tempdir().unwrap();
    let with = snapshot(store.path(), &db, &[]);
    let without = snapshot(store.path(), &db, &["--no-globals"]);
    let show = driftgate(store.path(), &["show", &without, "--format", "json"]);
    let objects: Vec<Value> = serde_json::from_str(&show.stdout).unwrap();
    for kind in [
        "role",
        "role_membership",
        "setting",
        "database",
        "server_setting",
        "tablespace",
    ] {
        assert!(
            objects.iter().all(|o| o["kind"] != kind),
            "{kind} with --no-globals"
        );
    }
    let show = driftgate(store.path(), &["show", &with, "--kind", "database"]);
    assert!(show.stdout.contains("database:@db"), "{}", show.all());
    for scope in ["roles", "settings", "database", "tablespaces"] {
        let r = driftgate(store.path(), &["fingerprint", &without, "--scope", scope]);
        assert_eq!(
            r.code,
            2,
            "{scope} on a snapshot without globals: {}",
            r.all()
        );
        let r = driftgate(store.path(), &["fingerprint", &with, "--scope", scope]);
        assert_eq!(r.code, 0, "{scope}: {}", r.all());
    }
}
