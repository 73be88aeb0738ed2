//! Streaming replication for tests: a primary (`wal_level = replica`, `replication` lines in
//! pg_hba.conf) and a hot standby of it made with `pg_basebackup -R`, on another free port,
//! plus a wait until the standby has replayed everything the primary has written so far.
//!
//! pg_basebackup comes with the system PostgreSQL (Debian's `/usr/lib/postgresql/N/bin`);
//! the npm server packages ship none. [`replication_bin_dir`] finds one that has it.

use super::{
    find_bin_dir, private_cluster_with, server_cmd, server_dirs, start_server, wait_until, Cluster,
    ClusterSetup, ServerDirs,
};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// A server directory with initdb, pg_ctl and pg_basebackup: `DRIFTGATE_TEST_PG_BIN` or the
/// newest `/usr/lib/postgresql/*/bin` if it has pg_basebackup, else
/// `/usr/lib/postgresql/15/bin`.
pub fn replication_bin_dir() -> PathBuf {
    let found = find_bin_dir();
    if found.join("pg_basebackup").exists() {
        return found;
    }
    let pg15 = PathBuf::from("/usr/lib/postgresql/15/bin");
    assert!(
        pg15.join("pg_basebackup").exists(),
        "no pg_basebackup beside {} nor in {}: install the system PostgreSQL (apt-get install \
         postgresql) for the standby tests",
        found.display(),
        pg15.display()
    );
    pg15
}

/// A primary that a standby can stream from.
pub fn replication_primary() -> &'static Cluster {
    private_cluster_with(
        Some(replication_bin_dir()),
        ClusterSetup {
            conf: "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n".into(),
            hba: Some(
                "local all all trust\n\
                 local replication all trust\n\
                 host all all 127.0.0.1/32 trust\n\
                 host replication all 127.0.0.1/32 trust\n"
                    .into(),
            ),
            ..ClusterSetup::default()
        },
    )
}

/// A hot standby of `primary` (pg_basebackup -R over TCP, WAL streamed), started on a
/// free port of 127.0.0.1 and accepting read-only connections when this returns.
pub fn streaming_standby(primary: &'static Cluster) -> &'static Cluster {
    let run_as = primary.run_as.clone();
    let bin_dir = primary.bin_dir.clone();
    let ServerDirs {
        base,
        data,
        socket_dir,
        log,
    } = server_dirs("driftgate-standby-", run_as.as_deref());
    let out = server_cmd(&bin_dir, run_as.as_deref(), "pg_basebackup")
        .arg("-D")
        .arg(&data)
        .args(["-R", "-X", "stream", "-c", "fast", "-h", "127.0.0.1", "-U"])
        .arg("postgres")
        .arg("-p")
        .arg(primary.port.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("pg_basebackup");
    assert!(
        out.status.success(),
        "pg_basebackup failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = start_server(
        &bin_dir,
        run_as.as_deref(),
        &data,
        &socket_dir,
        &log,
        &base,
        "127.0.0.1",
        "the standby",
    );
    let standby = Box::leak(Box::new(Cluster {
        bin_dir,
        base,
        data,
        socket_dir,
        port,
        log,
        run_as,
        version_num: primary.version_num,
    }));
    assert_eq!(
        standby.sql("postgres", "SELECT pg_is_in_recovery()").trim(),
        "t",
        "the standby is not in recovery"
    );
    standby
}

/// Wait until `standby` has replayed everything `primary` has written so far.
pub fn wait_for_replay(primary: &Cluster, standby: &Cluster) {
    let lsn = primary
        .sql("postgres", "SELECT pg_current_wal_lsn()")
        .trim()
        .to_string();
    wait_until(
        Duration::from_secs(60),
        &format!("the standby to replay up to {lsn}"),
        || {
            standby
                .sql(
                    "postgres",
                    &format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"),
                )
                .trim()
                == "t"
        },
    );
}
