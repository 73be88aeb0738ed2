//! The deployment files under `deploy/` (issue 15 item 3). No container engine or cluster
//! is here, so they are checked statically (the YAML parses; an Indexed Job with
//! parallelism == completions == --shards; non-root, read-only root filesystem, no
//! privilege escalation, every capability dropped; secrets referenced, never inlined; a
//! multi-stage Dockerfile with a numeric non-root USER), and then run: the CronJob's
//! container args and the merge Job's script, with the store and config paths swapped for
//! local ones, by the real `driftgate` against a real PostgreSQL, as the pods would.

mod support;

use driftgate::check::config::{CheckConfig, Connection};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::*;

const STORE_IN_YAML: &str = "s3://driftgate-store/fleet";
const CONFIG_IN_YAML: &str = "/etc/driftgate/driftgate.toml";

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file)
}

fn yaml(file: &str) -> Value {
    let text = std::fs::read_to_string(deploy(file)).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"))
}

/// The pod template of a CronJob, and its one container.
fn pod(cronjob: &Value) -> (&Value, &Value, &Value) {
    let job = &cronjob["spec"]["jobTemplate"]["spec"];
    let pod = &job["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "{pod}");
    (job, pod, &containers[0])
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap_or_else(|| panic!("not a string: {a}"))
                .to_string()
        })
        .collect()
}

/// What the security review asks of every pod: non-root, read-only root, no escalation, no
/// capabilities, no service account token, the config from the ConfigMap, /tmp an emptyDir.
fn assert_locked_down(name: &str, pod: &Value, c: &Value) {
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
    assert!(
        pod["securityContext"]["runAsUser"].as_u64().unwrap() > 0,
        "{name}"
    );
    assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
    assert_eq!(pod["restartPolicy"], "Never", "{name}");
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true, "{name}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{name}"
    );
    assert!(sc.get("privileged").is_none_or(|p| p == false), "{name}");
    let volumes = pod["volumes"].as_array().unwrap();
    let volume = |n: &str| volumes.iter().find(|v| v["name"] == n).unwrap();
    assert_eq!(volume("config")["configMap"]["name"], "driftgate-config");
    assert!(volume("tmp").get("emptyDir").is_some(), "{name}");
    let mounts = c["volumeMounts"].as_array().unwrap();
    let mount = |n: &str| mounts.iter().find(|m| m["name"] == n).unwrap();
    assert_eq!(mount("config")["mountPath"], "/etc/driftgate");
    assert_eq!(mount("config")["readOnly"], true);
    assert_eq!(mount("tmp")["mountPath"], "/tmp");
    // Secrets referenced, never inlined: the AWS keys from a Secret, no value that is a DSN
    // or a key.
    let env = c["env"].as_array().unwrap();
    for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        let e = env.iter().find(|e| e["name"] == key).unwrap();
        assert!(e.get("value").is_none(), "{name}: {key} inlined");
        assert_eq!(
            e["valueFrom"]["secretKeyRef"]["name"], "driftgate-s3",
            "{name}"
        );
    }
    for e in env {
        let value = e["value"].as_str().unwrap_or_default();
        for secretish in ["postgres://", "postgresql://", "password", "AKIA"] {
            assert!(!value.contains(secretish), "{name}: {e}");
        }
    }
    assert_eq!(c["image"], "registry.example.com/driftgate:0.1.0");
}

#[test]
fn the_cronjob_is_an_indexed_job_of_n_locked_down_shards() {
    let cj = yaml("k8s/cronjob.yaml");
    assert_eq!(cj["apiVersion"], "batch/v1");
    assert_eq!(cj["kind"], "CronJob");
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Forbid");
    let (job, pod, c) = pod(&cj);
    assert_eq!(job["completionMode"], "Indexed");
    let n = job["completions"].as_u64().unwrap();
    assert!(n >= 2, "{job}");
    assert_eq!(job["parallelism"].as_u64(), Some(n), "every shard at once");
    let args = strings(&c["args"]);
    let at = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args[i + 1].clone())
            .unwrap_or_else(|| panic!("no {flag} in {args:?}"))
    };
    assert_eq!(at("--shards"), n.to_string(), "--shards is the completions");
    assert_eq!(at("--store"), STORE_IN_YAML);
    assert_eq!(at("--config"), CONFIG_IN_YAML);
    assert!(at("--report").starts_with("/tmp/"));
    assert!(!args
        .iter()
        .any(|a| a.starts_with("--shard=") || a == "--shard"));
    assert_locked_down("cronjob", pod, c);
    let env = c["env"].as_array().unwrap();
    // The shard comes from the Indexed Job's own JOB_COMPLETION_INDEX, never a fixed value.
    assert!(!env.iter().any(|e| e["name"] == "JOB_COMPLETION_INDEX"));
    let run_id = env
        .iter()
        .find(|e| e["name"] == "DRIFTGATE_RUN_ID")
        .unwrap();
    assert_eq!(
        run_id["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.labels['batch.kubernetes.io/job-name']"
    );
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "driftgate-dsns");
    // A drift or an unreadable target is an answer: that index is not retried (its report
    // is in the store, written once).
    let rules = job["podFailurePolicy"]["rules"].as_array().unwrap();
    let fail_index = rules.iter().find(|r| r["action"] == "FailIndex").unwrap();
    assert_eq!(
        fail_index["onExitCodes"]["values"],
        serde_json::json!([1, 2])
    );
    assert_eq!(fail_index["onExitCodes"]["containerName"], c["name"]);
}

#[test]
fn the_merge_is_a_job_of_its_own_after_every_shard_has_ended() {
    let shards = yaml("k8s/cronjob.yaml");
    let merge = yaml("k8s/merge-job.yaml");
    assert_eq!(merge["kind"], "CronJob");
    let (job, pod, c) = pod(&merge);
    assert_eq!(job["completions"], 1);
    assert!(job.get("completionMode").is_none_or(|m| m == "NonIndexed"));
    assert_locked_down("merge", pod, c);
    let script = strings(&c["command"]).join(" ");
    assert!(script.contains("check merge"), "{script}");
    assert!(script.contains(&format!("--config {CONFIG_IN_YAML}")));
    assert!(script.contains(&format!("--store {STORE_IN_YAML}")));
    // Its schedule is the shards' plus the offset it computes their run id with, and the
    // shards are past their deadline by then.
    let minute_of = |cj: &Value| {
        let s = cj["spec"]["schedule"].as_str().unwrap().to_string();
        let parts: Vec<u64> = s.split(' ').take(2).map(|p| p.parse().unwrap()).collect();
        parts[1] * 60 + parts[0]
    };
    let env = c["env"].as_array().unwrap();
    let offset: u64 = env
        .iter()
        .find(|e| e["name"] == "SHARD_OFFSET_MINUTES")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(minute_of(&merge) - minute_of(&shards), offset);
    let deadline = shards["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]
        .as_u64()
        .unwrap();
    assert!(deadline < offset * 60, "a shard may still run at the merge");
    assert_eq!(shards["spec"]["timeZone"], merge["spec"]["timeZone"]);
}

#[test]
fn the_config_map_holds_a_config_driftgate_accepts_with_no_secret_in_it() {
    let cm = yaml("k8s/configmap.yaml");
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "driftgate-config");
    let text = cm["data"]["driftgate.toml"].as_str().unwrap();
    let config = CheckConfig::parse(text, Path::new("driftgate.toml")).unwrap();
    assert!(config.targets.len() >= 3);
    for t in &config.targets {
        assert!(
            matches!(t.connection, Connection::DsnEnv(_)),
            "{}: DSNs come from Secrets through dsn_env",
            t.name
        );
    }
    // No file under deploy/ is a Secret with data: they are created beside, by hand.
    for file in [
        "k8s/cronjob.yaml",
        "k8s/merge-job.yaml",
        "k8s/configmap.yaml",
    ] {
        let text = std::fs::read_to_string(deploy(file)).unwrap();
        assert!(!text.contains("kind: Secret"), "{file}");
    }
}

#[test]
fn the_dockerfile_is_multi_stage_and_runs_as_a_numeric_non_root_user() {
    let text = std::fs::read_to_string(deploy("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        froms[0].starts_with(&format!("FROM rust:{rust_version}-")),
        "the builder is the crate's rust-version: {froms:?}"
    );
    assert!(froms.last().unwrap().contains("debian:") && froms.last().unwrap().contains("-slim"));
    let runtime_start = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    let runtime = &lines[runtime_start..];
    let builder = &lines[..runtime_start];
    assert!(
        builder.iter().any(|l| l.contains("libclang-dev")),
        "pg_query's bindgen"
    );
    assert!(runtime.iter().any(|l| l.contains("ca-certificates")));
    assert!(runtime.iter().any(|l| l.starts_with("COPY --from=builder")));
    let user = runtime
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER in the runtime stage");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u > 0),
        "numeric and not root: {user}"
    );
    // The uid the pods run as.
    let cronjob = yaml("k8s/cronjob.yaml");
    let (_, pod, _) = pod(&cronjob);
    assert_eq!(
        pod["securityContext"]["runAsUser"]
            .as_u64()
            .unwrap()
            .to_string(),
        uid
    );
    assert!(runtime
        .iter()
        .any(|l| l.starts_with("ENTRYPOINT [\"/usr/local/bin/driftgate\"]")));
    // What the builder copies is what the context keeps (Dockerfile.dockerignore).
    let ignore = std::fs::read_to_string(deploy("Dockerfile.dockerignore")).unwrap();
    let kept: Vec<&str> = ignore
        .lines()
        .filter_map(|l| l.strip_prefix('!'))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    for l in builder.iter().filter_map(|l| l.strip_prefix("COPY ")) {
        let sources: Vec<&str> = l.split_whitespace().collect();
        for src in &sources[..sources.len() - 1] {
            assert!(
                kept.contains(src),
                "COPY {src} but the context leaves it out"
            );
        }
    }
}

/// The YAML's own commands, run: each pod of the Indexed Job as the CronJob's container
/// args say (JOB_COMPLETION_INDEX and the run id as Kubernetes sets them), at once, then
/// the merge Job's script with its Job name, against a real database and the ConfigMap's
/// config. Only the store (a local directory) and the config and /tmp paths are swapped.
#[test]
fn the_yaml_commands_run_shards_then_merge_as_the_pods_would() {
    let db = empty_db("deploy_sim");
    db.sql("CREATE TABLE t (id int PRIMARY KEY)");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("driftgate.toml");
    let cm = yaml("k8s/configmap.yaml");
    let text = cm["data"]["driftgate.toml"].as_str().unwrap();
    std::fs::write(&config, text).unwrap();
    let parsed = CheckConfig::parse(text, &config).unwrap();
    let dsn_vars: Vec<String> = parsed
        .targets
        .iter()
        .map(|t| match &t.connection {
            Connection::DsnEnv(v) => v.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    // /tmp first: the local paths put in next are themselves under /tmp.
    let swap = |a: &str, tmp: &Path| {
        a.replace("/tmp/", &format!("{}/", tmp.display()))
            .replace(STORE_IN_YAML, store.to_str().unwrap())
            .replace(CONFIG_IN_YAML, config.to_str().unwrap())
            .replace("/usr/local/bin/driftgate", env!("CARGO_BIN_EXE_driftgate"))
    };
    let with_env = |mut cmd: Command| {
        for v in &dsn_vars {
            cmd.env(v, &db.dsn);
        }
        for var in [
            "DATABASE_URL",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "DRIFTGATE_STORE",
            "DRIFTGATE_CONFIG",
            "DRIFTGATE_RUN_ID",
            "JOB_COMPLETION_INDEX",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("NO_COLOR", "1").stdin(Stdio::null());
        cmd
    };
    for t in &parsed.targets {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
        cmd.args([
            "--store",
            store.to_str().unwrap(),
            "baseline",
            "accept",
            &t.name,
            "--config",
            config.to_str().unwrap(),
            "-q",
        ]);
        let r = run_cmd(with_env(cmd));
        assert_eq!(r.code, 0, "{r:?}");
    }

    let cj = yaml("k8s/cronjob.yaml");
    let (job, _, c) = pod(&cj);
    let n = job["completions"].as_u64().unwrap();
    let job_name = "driftgate-nightly-29012345";
    let pods: Vec<(tempfile::TempDir, std::process::Child)> = (0..n)
        .map(|i| {
            let tmp = tempfile::tempdir().unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
            cmd.args(strings(&c["args"]).iter().map(|a| swap(a, tmp.path())));
            let mut cmd = with_env(cmd);
            cmd.env("JOB_COMPLETION_INDEX", i.to_string())
                .env("DRIFTGATE_RUN_ID", job_name)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (tmp, cmd.spawn().unwrap())
        })
        .collect();
    let mut total = 0;
    for (i, (tmp, child)) in pods.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "pod {i}: {out:?}");
        let report: Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join("shard-report.json")).unwrap())
                .unwrap();
        assert_eq!(report["shard"]["index"], i as u64 + 1);
        assert_eq!(report["run_id"], job_name);
        total += report["targets"].as_array().unwrap().len();
    }
    assert_eq!(total, parsed.targets.len());

    let merge = yaml("k8s/merge-job.yaml");
    let (_, _, mc) = pod(&merge);
    let command = strings(&mc["command"]);
    assert_eq!(command[..2], ["/bin/sh", "-c"]);
    let offset: u64 = 45;
    let run_merge = |minute: u64| {
        let tmp = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(swap(&command[2], tmp.path()));
        let mut cmd = with_env(cmd);
        cmd.env("JOB_NAME", format!("driftgate-merge-{minute}"))
            .env("SHARD_OFFSET_MINUTES", offset.to_string());
        let r = run_cmd(cmd);
        let merged = std::fs::read(tmp.path().join("merged.json")).ok();
        (r, merged)
    };
    let (r, merged) = run_merge(29_012_345 + offset);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("(merged {n} of {n} shards of run {job_name})")),
        "{r:?}"
    );
    let merged: Value = serde_json::from_slice(&merged.unwrap()).unwrap();
    assert_eq!(
        merged["targets"].as_array().unwrap().len(),
        parsed.targets.len()
    );
    // The merge of a night whose shards never ran: BLOCK, exit 2.
    let (r, _) = run_merge(29_012_345 + offset + 1440);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("gate_drift: BLOCK"), "{r:?}");
}
