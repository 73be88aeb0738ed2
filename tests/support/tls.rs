//! TLS for tests: throwaway certificate authorities and certificates made with rcgen (ring),
//! written as PEM files, and the servers the TLS tests connect to — one that speaks TLS only
//! (`hostssl` lines alone, so plaintext is refused by pg_hba.conf, and `certuser` must show a
//! client certificate), one that speaks plaintext only (`ssl = off`), one that speaks both
//! (`host` lines: where libpq's `allow` and `prefer` may fall back), and one whose
//! certificate comes from a second CA (for `sslrootcert=system` through `SSL_CERT_FILE`).
//! Each is started once per test binary, listens on 127.0.0.1 and 127.0.0.2 (a host name the
//! certificates do not carry), and has a `certuser` superuser role.

use super::{private_cluster_with, remove_when_done, Cluster, ClusterSetup};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The role that authenticates with a client certificate (`cert` in pg_hba.conf).
pub const CERT_USER: &str = "certuser";

/// The name the certificates are not valid for; the servers listen on it too.
pub const OTHER_HOST: &str = "127.0.0.2";

/// Every certificate of the TLS tests, as PEM files in one directory.
pub struct Pki {
    pub dir: PathBuf,
    /// The CA that signed the TLS server's certificate and the client certificate.
    pub ca1: PathBuf,
    /// A CA that signed nothing the TLS server shows: the wrong CA for it. It signed the
    /// certificate of the [`ca2_server`].
    pub ca2: PathBuf,
    /// Client certificate and key for [`CERT_USER`], signed by CA1 (key file 0600).
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    server1: (String, String),
    server2: (String, String),
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { params, key, pem }
}

/// (certificate PEM, key PEM) signed by `ca`.
fn leaf(ca: &Ca, cn: &str, sans: &[&str], server: bool) -> (String, String) {
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().unwrap();
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write_private(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap();
    // libpq refuses a client key that others can read.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The certificates, made once per test binary.
impl Pki {
    /// The CA1-signed server certificate and key (for 127.0.0.1 and localhost) as files, for
    /// a TLS server that is not PostgreSQL (the S3 test server).
    pub fn server1_files(&self) -> (PathBuf, PathBuf) {
        let (cert, key) = (self.dir.join("server1.crt"), self.dir.join("server1.key"));
        std::fs::write(&cert, &self.server1.0).unwrap();
        write_private(&key, &self.server1.1);
        (cert, key)
    }
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("driftgate-pki-")
            .tempdir()
            .unwrap()
            .keep();
        remove_when_done(&dir);
        let ca1 = ca("driftgate test CA1");
        let ca2 = ca("driftgate test CA2");
        // rustls ignores the CN; libpq reads the SANs when there are any.
        let server_names = ["127.0.0.1", "localhost"];
        let server1 = leaf(&ca1, "localhost", &server_names, true);
        let server2 = leaf(&ca2, "localhost", &server_names, true);
        let client = leaf(&ca1, CERT_USER, &[], false);
        let pki = Pki {
            ca1: dir.join("ca1.pem"),
            ca2: dir.join("ca2.pem"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
            dir,
            server1,
            server2,
        };
        std::fs::write(&pki.ca1, &ca1.pem).unwrap();
        std::fs::write(&pki.ca2, &ca2.pem).unwrap();
        std::fs::write(&pki.client_cert, &client.0).unwrap();
        write_private(&pki.client_key, &client.1);
        pki
    })
}

const LOCAL: &str = "local all all trust\n";

/// A server with `ssl = on`; `kind` is the pg_hba.conf connection type of its trust lines
/// (`hostssl`: TLS only; `host`: TLS or plaintext). [`CERT_USER`] over TLS must show a
/// client certificate (`cert` exists on `hostssl` lines only).
fn tls_cluster(server: &(String, String), ca_pem: &Path, kind: &str) -> &'static Cluster {
    let mut hba = LOCAL.to_string();
    for ip in ["127.0.0.1", OTHER_HOST] {
        hba.push_str(&format!("hostssl all {CERT_USER} {ip}/32 cert\n"));
    }
    for ip in ["127.0.0.1", OTHER_HOST] {
        hba.push_str(&format!("{kind} all all {ip}/32 trust\n"));
    }
    let cluster = private_cluster_with(
        None,
        ClusterSetup {
            // log_connections: the log tells which connections were TLS.
            conf: "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
                   ssl_ca_file = 'ca.crt'\nlog_connections = on\n"
                .into(),
            hba: Some(hba),
            files: vec![
                ("server.crt".into(), server.0.clone().into_bytes()),
                ("server.key".into(), server.1.clone().into_bytes()),
                ("ca.crt".into(), std::fs::read(ca_pem).unwrap()),
            ],
            listen: Some(format!("127.0.0.1,{OTHER_HOST}")),
        },
    );
    add_cert_user(cluster);
    cluster
}

fn add_cert_user(cluster: &Cluster) {
    cluster.sql(
        "postgres",
        &format!("CREATE ROLE {CERT_USER} LOGIN SUPERUSER"),
    );
}

/// TLS only: `hostssl` lines alone (trust, and `cert` for [`CERT_USER`]); its certificate is
/// from CA1 (SAN IP 127.0.0.1, DNS localhost), and it asks clients for CA1 certificates.
pub fn tls_server() -> &'static Cluster {
    static S: OnceLock<&'static Cluster> = OnceLock::new();
    S.get_or_init(|| {
        let pki = pki();
        tls_cluster(&pki.server1, &pki.ca1, "hostssl")
    })
}

/// Like [`tls_server`], with `host` lines instead of `hostssl`: plaintext is let in too.
pub fn tls_or_plain_server() -> &'static Cluster {
    static S: OnceLock<&'static Cluster> = OnceLock::new();
    S.get_or_init(|| {
        let pki = pki();
        tls_cluster(&pki.server1, &pki.ca1, "host")
    })
}

/// Like [`tls_server`], with a certificate from CA2.
pub fn ca2_server() -> &'static Cluster {
    static S: OnceLock<&'static Cluster> = OnceLock::new();
    S.get_or_init(|| {
        let pki = pki();
        tls_cluster(&pki.server2, &pki.ca1, "hostssl")
    })
}

/// Plaintext only: `ssl = off`, `host … trust`.
pub fn plain_server() -> &'static Cluster {
    static S: OnceLock<&'static Cluster> = OnceLock::new();
    S.get_or_init(|| {
        let mut hba = LOCAL.to_string();
        for ip in ["127.0.0.1", OTHER_HOST] {
            hba.push_str(&format!("host all all {ip}/32 trust\n"));
        }
        let cluster = private_cluster_with(
            None,
            ClusterSetup {
                conf: "ssl = off\n".into(),
                hba: Some(hba),
                files: Vec::new(),
                listen: Some(format!("127.0.0.1,{OTHER_HOST}")),
            },
        );
        add_cert_user(cluster);
        cluster
    })
}
