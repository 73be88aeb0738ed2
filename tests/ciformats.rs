//! JUnit XML and SARIF from `gate --format junit|sarif` and `check --junit/--sarif` (issue 16
//! item 5), on real throwaway servers: PASS, WARN, BLOCK and a fail-closed exit 2 each give
//! a document that validates, JUnit against the vendored `tests/schemas/junit-10.xsd` (with
//! `xmllint --schema`, from scripts/setup.sh) and SARIF against the vendored OASIS SARIF
//! 2.1.0 JSON schema; hostile object names stay text and the XML still parses.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const DROPPED: &str = "trg_refresh_orphan_dot";
const DROPPED_KEY: &str = "trigger:public.dot_tools.trg_refresh_orphan_dot";
const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A port on 127.0.0.1 nobody listens on.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

/// `xml` validates against junit-10.xsd; xmllint missing is a failure, never a skip.
fn assert_junit_valid(xml: &str, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "junit.xml", xml);
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(format!("{SCHEMAS}/junit-10.xsd"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint not runnable ({e}): scripts/setup.sh installs libxml2-utils")
        });
    assert!(
        out.status.success(),
        "{what}: JUnit XML does not validate: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{SCHEMAS}/sarif-2.1.0.json")).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the vendored SARIF schema compiles")
}

/// `text` is SARIF 2.1.0 by the OASIS schema; returns it parsed.
fn assert_sarif_valid(text: &str, what: &str) -> Value {
    let v: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: SARIF is not JSON ({e}): {text}"));
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: SARIF does not validate:\n{}\n{text}",
        errors.join("\n")
    );
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "driftgate");
    v
}

fn results(v: &Value) -> &Vec<Value> {
    v["runs"][0]["results"].as_array().unwrap()
}

/// The testsuite's counts, `(tests, failures, errors)`, of the one suite whose name is
/// `name` (a gate's name goes on with its base and head).
fn suite_counts(xml: &str, name: &str) -> (usize, usize, usize) {
    let line = xml
        .lines()
        .find(|l| {
            let l = l.trim_start();
            l.starts_with(&format!("<testsuite name=\"{name}\""))
                || l.starts_with(&format!("<testsuite name=\"{name} "))
        })
        .unwrap_or_else(|| panic!("no testsuite {name} in\n{xml}"));
    let n = |attr: &str| -> usize {
        let at = line.find(&format!(" {attr}=\"")).unwrap() + attr.len() + 3;
        line[at..].split('"').next().unwrap().parse().unwrap()
    };
    (n("tests"), n("failures"), n("errors"))
}

#[test]
fn gate_junit_and_sarif_for_pass_warn_block_and_fail_closed_validate() {
    let db = fixture_db("ci_gate");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let snap = |name: &str| {
        let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", name, "-q"]);
        assert_eq!(r.code, 0, "{r:?}");
    };
    snap("before");
    db.sql(&format!("DROP TRIGGER {DROPPED} ON dot_tools"));
    snap("after");
    let warn = write(
        dir.path(),
        "warn.toml",
        "[[rules]]\nkind = \"trigger\"\nseverity = \"warn\"\n",
    );
    let gate = |args: &[&str], format: &str| {
        let mut a = vec!["gate"];
        a.extend(args);
        a.extend(["--format", format]);
        driftgate(&store, &a)
    };

    // PASS: no finding, still one passing testcase and a run with no results.
    let r = gate(&["before", "before"], "junit");
    assert_eq!(r.code, 0, "{r:?}");
    assert_junit_valid(&r.stdout, "gate PASS");
    assert_eq!(suite_counts(&r.stdout, "driftgate gate"), (1, 0, 0));
    assert!(r.stdout.contains("gate_drift PASS"), "{r:?}");
    let r = gate(&["before", "before"], "sarif");
    assert_eq!(r.code, 0, "{r:?}");
    let v = assert_sarif_valid(&r.stdout, "gate PASS");
    assert!(results(&v).is_empty(), "{v}");
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);

    // BLOCK: the dropped trigger is a failure, and the verdict fails.
    let r = gate(&["before", "after"], "junit");
    assert_eq!(r.code, 1, "{r:?}");
    assert_junit_valid(&r.stdout, "gate BLOCK");
    assert_eq!(suite_counts(&r.stdout, "driftgate gate"), (2, 2, 0));
    assert!(
        r.stdout
            .contains(&format!("name=\"{DROPPED_KEY} removed\""))
            && r.stdout.contains("<failure type=\"catalog-change\""),
        "{}",
        r.stdout
    );
    let r = gate(&["before", "after"], "sarif");
    assert_eq!(r.code, 1, "{r:?}");
    let v = assert_sarif_valid(&r.stdout, "gate BLOCK");
    let res = results(&v);
    assert_eq!(res.len(), 1, "{v}");
    assert_eq!(res[0]["level"], "error");
    assert_eq!(res[0]["ruleId"], "catalog-change");
    let logical = &res[0]["locations"][0]["logicalLocations"][0];
    assert_eq!(logical["fullyQualifiedName"], DROPPED_KEY);
    assert_eq!(logical["kind"], "trigger");
    assert!(
        res[0]["locations"][0].get("physicalLocation").is_none(),
        "no file without --policy: {v}"
    );
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules[0]["id"], "catalog-change");
    assert!(!rules[0]["help"]["text"].as_str().unwrap().is_empty());
    // Stable: the same change gives the same fingerprint on another run.
    let fp = res[0]["partialFingerprints"].clone();
    let again = assert_sarif_valid(&gate(&["before", "after"], "sarif").stdout, "again");
    assert_eq!(results(&again)[0]["partialFingerprints"], fp);

    // WARN: a passing testcase whose output says the warning; a `warning` result that
    // points at the policy file.
    let r = gate(&["before", "after", "--policy", s(&warn)], "junit");
    assert_eq!(r.code, 0, "WARN passes by default: {r:?}");
    assert_junit_valid(&r.stdout, "gate WARN");
    assert_eq!(suite_counts(&r.stdout, "driftgate gate"), (2, 0, 0));
    assert!(
        r.stdout
            .contains(&format!("<system-out>warn removed {DROPPED_KEY}")),
        "{}",
        r.stdout
    );
    let r = gate(&["before", "after", "--policy", s(&warn)], "sarif");
    let v = assert_sarif_valid(&r.stdout, "gate WARN");
    let res = results(&v);
    assert_eq!(res[0]["level"], "warning", "{v}");
    assert_eq!(res[0]["ruleId"], "rule-1", "{v}");
    assert_eq!(
        res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!("file://{}", s(&warn)),
        "{v}"
    );
    assert_ne!(
        res[0]["partialFingerprints"], fp,
        "another rule, another alert"
    );

    // Fail-closed: a ref that does not exist is exit 2, an error testcase and an error result.
    let r = gate(&["before", "no-such-ref"], "junit");
    assert_eq!(r.code, 2, "{r:?}");
    assert_junit_valid(&r.stdout, "gate fail-closed");
    let (tests, failures, errors) = suite_counts(&r.stdout, "driftgate gate");
    assert_eq!((tests, failures, errors), (2, 1, 1), "{}", r.stdout);
    assert!(
        r.stdout.contains("<error type=\"fail-closed\""),
        "{}",
        r.stdout
    );
    let r = gate(&["before", "no-such-ref"], "sarif");
    assert_eq!(r.code, 2, "{r:?}");
    let v = assert_sarif_valid(&r.stdout, "gate fail-closed");
    let res = results(&v);
    assert_eq!(res.len(), 1, "{v}");
    assert_eq!(
        (res[0]["level"].as_str(), res[0]["ruleId"].as_str()),
        (Some("error"), Some("fail-closed"))
    );
    assert!(
        res[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("no-such-ref"),
        "{v}"
    );
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);

    // Formats a command lacks are refused (exit 2), and --help lists the new ones.
    let r = driftgate(&store, &["diff", "before", "after", "--format", "junit"]);
    assert_eq!(r.code, 2, "{r:?}");
    let h = driftgate(&store, &["gate", "--help"]);
    assert!(
        h.stdout.contains("junit") && h.stdout.contains("sarif"),
        "{h:?}"
    );
}

/// Names no XML 1.0 document may carry raw: markup, `]]>`, quotes and control characters.
/// The JUnit document still parses and validates, and the names are there as text.
#[test]
fn hostile_names_are_text_in_junit_and_sarif() {
    let db = fixture_db("ci_hostile");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "a", "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    let hostile = "<script>alert(1)</script>&]]>\"q'\u{1}\u{1b}[31m\u{7f}x";
    db.sql(&format!(
        "CREATE TABLE \"{}\" (id int)",
        hostile.replace('"', "\"\"")
    ));
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "b", "-q"]);
    assert_eq!(r.code, 0, "{r:?}");

    let r = driftgate(&store, &["gate", "a", "b", "--format", "junit"]);
    assert_eq!(r.code, 1, "{r:?}");
    let xml = &r.stdout;
    assert_junit_valid(xml, "hostile names");
    assert!(!xml.contains("<script>") && !xml.contains("]]>"), "{xml}");
    assert!(!xml.contains('\u{1}') && !xml.contains('\u{1b}'), "{xml}");
    assert!(
        xml.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;]]&gt;"),
        "{xml}"
    );
    assert!(
        xml.contains("\\u{1}\\u{1b}[31m"),
        "shown, not dropped: {xml}"
    );
    // xmllint reads the name back as the text it is (the control characters as shown).
    let file = write(dir.path(), "hostile.xml", xml);
    let out = Command::new("xmllint")
        .args([
            "--xpath",
            "string(//testcase[contains(@name,'script')]/@name)",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let name = String::from_utf8_lossy(&out.stdout);
    assert!(
        name.contains("<script>alert(1)</script>&]]>\"\"q'\\u{1}\\u{1b}[31m"),
        "{name}"
    );

    let r = driftgate(&store, &["gate", "a", "b", "--format", "sarif"]);
    let v = assert_sarif_valid(&r.stdout, "hostile names");
    let keys: Vec<&str> = results(&v)
        .iter()
        .filter_map(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].as_str())
        .collect();
    assert!(
        keys.iter()
            .any(|k| k.contains("<script>alert(1)</script>&]]>")
                && k.contains("q'\u{1}\u{1b}[31m\u{7f}x")),
        "JSON carries the name exactly: {keys:?}"
    );
}

#[test]
fn check_junit_and_sarif_one_suite_per_target_and_fail_closed_runs() {
    let clean = fixture_db("ci_check_clean");
    let drifted = fixture_db("ci_check_drifted");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let targets = format!(
        "[[target]]\nname = \"clean\"\ndsn = \"{}\"\n\n[[target]]\nname = \"drifted\"\ndsn = \"{}\"\n\n",
        clean.dsn, drifted.dsn
    );
    let config = write(dir.path(), "driftgate.toml", &targets);
    for t in ["clean", "drifted"] {
        let r = driftgate(
            &store,
            &["baseline", "accept", t, "--config", s(&config), "-q"],
        );
        assert_eq!(r.code, 0, "{r:?}");
    }
    let (junit, sarif) = (
        dir.path().join("out/junit.xml"),
        dir.path().join("out/drift.sarif"),
    );
    let check = |config: &Path, extra: &[&str]| {
        let _ = std::fs::remove_file(&junit);
        let _ = std::fs::remove_file(&sarif);
        let mut a = vec![
            "check",
            "--config",
            s(config),
            "--junit",
            s(&junit),
            "--sarif",
            s(&sarif),
        ];
        a.extend(extra);
        let r = driftgate(&store, &a);
        let xml = std::fs::read_to_string(&junit)
            .unwrap_or_else(|e| panic!("no JUnit file ({e}): {r:?}"));
        let sarif = std::fs::read_to_string(&sarif)
            .unwrap_or_else(|e| panic!("no SARIF file ({e}): {r:?}"));
        (r, xml, sarif)
    };

    // PASS on both.
    let (r, xml, sarif_text) = check(&config, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_junit_valid(&xml, "check PASS");
    assert_eq!(suite_counts(&xml, "driftgate check clean"), (1, 0, 0));
    assert_eq!(suite_counts(&xml, "driftgate check drifted"), (1, 0, 0));
    let v = assert_sarif_valid(&sarif_text, "check PASS");
    assert!(results(&v).is_empty(), "{v}");

    // BLOCK on one.
    drifted.sql(&format!("DROP TRIGGER {DROPPED} ON dot_tools"));
    let (r, xml, sarif_text) = check(&config, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_junit_valid(&xml, "check BLOCK");
    assert_eq!(suite_counts(&xml, "driftgate check clean"), (1, 0, 0));
    assert_eq!(suite_counts(&xml, "driftgate check drifted"), (2, 2, 0));
    let v = assert_sarif_valid(&sarif_text, "check BLOCK");
    let res = results(&v);
    assert_eq!(res.len(), 1, "{v}");
    assert_eq!(res[0]["level"], "error");
    assert_eq!(res[0]["properties"]["target"], "drifted");
    assert_eq!(
        res[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        DROPPED_KEY
    );
    assert_eq!(
        res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!("file://{}", s(&config)),
        "the config file is the location: {v}"
    );

    // WARN under a policy that only warns about triggers.
    let warn = write(
        dir.path(),
        "warn.toml",
        &format!(
            "[policy]\n[[policy.rules]]\nkind = \"trigger\"\nseverity = \"warn\"\n\n{targets}"
        ),
    );
    let (r, xml, sarif_text) = check(&warn, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_junit_valid(&xml, "check WARN");
    assert_eq!(suite_counts(&xml, "driftgate check drifted"), (2, 0, 0));
    assert!(xml.contains("<system-out>warn removed"), "{xml}");
    let v = assert_sarif_valid(&sarif_text, "check WARN");
    assert_eq!(results(&v)[0]["level"], "warning", "{v}");

    // A target that cannot be read: exit 2, an error testcase, an error result.
    let down = write(
        dir.path(),
        "down.toml",
        &format!(
            "{targets}[[target]]\nname = \"down\"\ndsn = \"postgresql://postgres@127.0.0.1:{}/x\"\nconnect_timeout = \"5s\"\n",
            dead_port()
        ),
    );
    let (r, xml, sarif_text) = check(&down, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_junit_valid(&xml, "check with a target down");
    let (_, failures, errors) = suite_counts(&xml, "driftgate check down");
    assert_eq!((failures, errors), (1, 1), "{xml}");
    let v = assert_sarif_valid(&sarif_text, "check with a target down");
    assert!(
        results(&v).iter().any(|r| r["level"] == "error"
            && r["ruleId"] == "fail-closed"
            && r["properties"]["target"] == "down"),
        "{v}"
    );
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);

    // A config that cannot be read: the run could not start, and still says so in both.
    let broken = write(dir.path(), "broken.toml", "[[target]\nname=");
    let (r, xml, sarif_text) = check(&broken, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_junit_valid(&xml, "check that could not run");
    assert_eq!(suite_counts(&xml, "driftgate check"), (2, 1, 1), "{xml}");
    let v = assert_sarif_valid(&sarif_text, "check that could not run");
    let res = results(&v);
    assert_eq!(res.len(), 1, "{v}");
    assert_eq!(
        (res[0]["level"].as_str(), res[0]["ruleId"].as_str()),
        (Some("error"), Some("fail-closed"))
    );
}

/// The validators refuse what they must: a SARIF level the spec has not, a JUnit suite
/// without its counts. (Otherwise a validator that accepts anything would pass every test.)
#[test]
fn the_schemas_refuse_broken_documents() {
    let bad = serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "driftgate"}},
                  "results": [{"level": "fatal", "message": {"text": "x"}}]}]
    });
    assert!(
        sarif_validator().iter_errors(&bad).next().is_some(),
        "level fatal is not SARIF 2.1.0"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.xml",
        "<testsuites><testsuite name=\"x\"><testcase name=\"y\"/></testsuite></testsuites>",
    );
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(format!("{SCHEMAS}/junit-10.xsd"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a suite without tests/failures/errors is not valid"
    );
}
