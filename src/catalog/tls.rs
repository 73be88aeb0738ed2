//! driftgate's own TLS, so that a connection is never weaker than the one asked for.
//!
//! The driver's TLS adds the public web's certificate authorities to `sslrootcert`, never
//! verifies under `require`, and reads `sslrootcert=system` as a file name. Here the trust
//! store is built from the root certificates asked for and nothing else ([`root_store`]):
//! the `sslrootcert` file, or the operating system's store (`SSL_CERT_FILE` /
//! `SSL_CERT_DIR` first) for `sslrootcert=system`. The handshake is PostgreSQL's
//! (`SSLRequest`, then TLS on the same TCP connection), done by [`open`]; the driver then
//! speaks the protocol over a private unix socket that [`hand_over`] relays to the
//! encrypted stream, so the driver never sees a network connection of its own.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where the trusted root certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Roots {
    /// A PEM file (`sslrootcert=FILE`, or libpq's default `~/.postgresql/root.crt`).
    File(PathBuf),
    /// The operating system's store (`sslrootcert=system`).
    System,
}

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verify {
    /// Encrypted, any certificate accepted (`require`/`prefer`/`allow` with no root
    /// certificate): the handshake's signatures are still checked.
    Nothing,
    /// Signed by a trusted root; the host name is not compared (`verify-ca`).
    Chain,
    /// Signed by a trusted root and issued for the host (`verify-full`).
    ChainAndName,
}

/// Everything a TLS session needs besides the host.
#[derive(Clone, Debug)]
pub struct TlsPlan {
    pub verify: Verify,
    pub roots: Option<Roots>,
    /// Client certificate chain and key (`sslcert`, `sslkey`).
    pub client: Option<(PathBuf, PathBuf)>,
    /// Send the host name in the handshake (libpq's `sslsni`, on by default).
    pub sni: bool,
}

/// A root certificate or key file is small; one far larger is not read.
const MAX_PEM_BYTES: u64 = 16 << 20;

/// Read with the limit, not checked against the file's size first: `/dev/zero` or a FIFO
/// has no size and would be read forever.
fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    crate::bounded::read_file_limited(path, MAX_PEM_BYTES, &format!("{what} file"))
}

/// The trust store: exactly the certificates of `roots`, never the public web's.
pub fn root_store(roots: &Roots) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let pem = read_pem(path, "root certificate")?;
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert =
                    cert.map_err(|e| format!("root certificate file {}: {e}", path.display()))?;
                store.add(cert).map_err(|e| {
                    format!(
                        "root certificate file {} holds a certificate that cannot be a root: {e}",
                        path.display()
                    )
                })?;
                n += 1;
            }
            if n == 0 {
                return Err(format!(
                    "root certificate file {} holds no PEM certificate",
                    path.display()
                ));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            if let Some(e) = found.errors.first() {
                tracing::warn!("reading the system's root certificates: {e}");
            }
            let (added, _ignored) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(
                    "sslrootcert=system: the operating system's trust store holds no usable \
                     certificate (see SSL_CERT_FILE, SSL_CERT_DIR)"
                        .into(),
                );
            }
        }
    }
    Ok(store)
}

/// A private key readable by group or others is refused, as libpq refuses it.
fn check_key_permissions(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read private key file {}: {e}", path.display()))?;
        let mode = meta.permissions().mode();
        // libpq allows 0640 for a root-owned key (a key shared with a group of services).
        let allowed = if meta.uid() == 0 { 0o037 } else { 0o077 };
        if mode & allowed != 0 {
            return Err(format!(
                "private key file {} has group or world access; permissions should be u=rw (0600) or less",
                path.display()
            ));
        }
    }
    Ok(())
}

fn client_config(plan: &TlsPlan) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match (plan.verify, &plan.roots) {
        (Verify::Nothing, _) => Arc::new(AnyCertificate(provider.clone())),
        (verify, Some(roots)) => {
            let inner = WebPkiServerVerifier::builder_with_provider(
                Arc::new(root_store(roots)?),
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("TLS setup: {e}"))?;
            if verify == Verify::Chain {
                Arc::new(ChainOnly(inner))
            } else {
                inner
            }
        }
        (_, None) => return Err("a certificate check needs a root certificate".into()),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &plan.client {
        Some((cert, key)) => {
            let pem = read_pem(cert, "client certificate")?;
            let chain = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("client certificate file {}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!(
                    "client certificate file {} holds no PEM certificate",
                    cert.display()
                ));
            }
            check_key_permissions(key)?;
            let key_pem = read_pem(key, "private key")?;
            let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
                format!(
                    "private key file {}: {e} (an unencrypted PEM key is needed)",
                    key.display()
                )
            })?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| format!("client certificate {}: {e}", cert.display()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.enable_sni = plan.sni;
    Ok(config)
}

/// `verify-ca`: the chain is checked by webpki; only a name mismatch, which webpki checks
/// after the chain, is forgiven.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` (and `prefer`, `allow`) without a root certificate: libpq checks no
/// certificate then, and neither can we; the handshake signatures are still verified so the
/// session keys belong to whoever holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A stream to the server, ready for the startup message.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Why a TLS session could not be set up.
#[derive(Debug)]
pub enum TlsFailure {
    /// The server answered the SSLRequest with `N`; the TCP stream is still usable for a
    /// plaintext startup.
    NotOffered(TcpStream),
    /// Anything else; the connection is gone.
    Failed(String),
}

/// PostgreSQL's SSLRequest code (1234 << 16 | 5679).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Ask for TLS on `tcp` and, when the server agrees, do the handshake with `plan`.
/// `host` is the name the certificate must be issued for (under `verify-full`).
pub async fn start_tls(
    mut tcp: TcpStream,
    host: &str,
    plan: &TlsPlan,
) -> Result<Stream, TlsFailure> {
    // The configuration is checked before anything is sent: a bad root file is the
    // user's error whatever the server would say.
    let config = client_config(plan).map_err(TlsFailure::Failed)?;
    let io = |e: std::io::Error| TlsFailure::Failed(format!("network error: {e}"));
    tcp.write_all(&SSL_REQUEST).await.map_err(io)?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await.map_err(io)?;
    match answer[0] {
        b'S' => {}
        b'N' => return Err(TlsFailure::NotOffered(tcp)),
        other => {
            return Err(TlsFailure::Failed(format!(
                "the server answered the TLS request with {:?}, not S or N",
                other as char
            )))
        }
    }
    let name = server_name(host)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match connector.connect(name, tcp).await {
        Ok(tls) => Ok(Stream::Tls(Box::new(tls))),
        Err(e) => Err(TlsFailure::Failed(describe_handshake_error(&e, host, plan))),
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, TlsFailure> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).map_err(|_| {
        TlsFailure::Failed(format!(
            "host {host:?} is neither a DNS name nor an IP address a certificate can name"
        ))
    })
}

/// A handshake error in the words a person needs: which check failed, against what.
fn describe_handshake_error(e: &std::io::Error, host: &str, plan: &TlsPlan) -> String {
    let roots = match &plan.roots {
        Some(Roots::File(p)) => format!("the root certificates of {}", p.display()),
        Some(Roots::System) => "the operating system's root certificates".into(),
        None => "no root certificate".into(),
    };
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(ce)) => match ce {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("TLS: the server's certificate is not valid for host {host} (sslmode=verify-full compares the host with the certificate's names)")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "TLS: the server's certificate has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "TLS: the server's certificate is not valid yet".into()
            }
            CertificateError::UnknownIssuer => {
                format!("TLS: the server's certificate is not trusted: none of {roots} signed it")
            }
            other => format!(
                "TLS: the server's certificate is not trusted ({other:?}; checked against {roots})"
            ),
        },
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("TLS: the server ended the handshake ({alert:?}); does it need a client certificate?")
        }
        Some(other) => format!("TLS handshake failed: {other}"),
        None => format!("TLS handshake failed: {e}"),
    }
}

/// A private directory for the relay's socket: 0700, created fresh, removed once the
/// driver has connected.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut base = std::env::temp_dir();
    // A unix socket path must fit in 108 bytes.
    if base.as_os_str().len() > 60 {
        base = PathBuf::from("/tmp");
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = base.join(format!(
        "driftgate-{}-{}-{nanos:08x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(&dir)?;
    Ok(dir)
}

/// The port number in the relay socket's name (`.s.PGSQL.<port>`); any would do.
pub const RELAY_PORT: u16 = 5432;

/// Hand `stream` to the driver: a unix socket in a fresh private directory that accepts
/// one connection from this process's user and relays it to `stream`. Returns the
/// directory to give the driver as its socket directory (port [`RELAY_PORT`]).
pub fn hand_over(stream: Stream) -> std::io::Result<PathBuf> {
    let dir = private_dir()?;
    let path = dir.join(format!(".s.PGSQL.{RELAY_PORT}"));
    let listener = match tokio::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            let _ = std::fs::remove_dir(&dir);
            return Err(e);
        }
    };
    let cleanup = dir.clone();
    tokio::spawn(async move {
        let accepted =
            tokio::time::timeout(std::time::Duration::from_secs(60), listener.accept()).await;
        drop(listener);
        let _ = std::fs::remove_file(cleanup.join(format!(".s.PGSQL.{RELAY_PORT}")));
        let _ = std::fs::remove_dir(&cleanup);
        let Ok(Ok((mut local, _))) = accepted else {
            return;
        };
        // The directory is 0700; the peer check is a second lock on the same door.
        let own_uid = own_uid();
        if local.peer_cred().map(|c| c.uid()).ok() != Some(own_uid) {
            return;
        }
        match stream {
            Stream::Plain(mut tcp) => {
                let _ = tokio::io::copy_bidirectional(&mut local, &mut tcp).await;
            }
            Stream::Tls(mut tls) => {
                let _ = tokio::io::copy_bidirectional(&mut local, tls.as_mut()).await;
            }
        }
    });
    Ok(dir)
}

/// This process's effective user id.
fn own_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/dev/zero` has no size to check first: the read itself is bounded.
    #[test]
    fn an_endless_certificate_file_is_refused_at_its_limit() {
        let e = read_pem(Path::new("/dev/zero"), "root certificate").unwrap_err();
        assert_eq!(
            e,
            "root certificate file /dev/zero is larger than the 16 MiB limit"
        );
    }

    #[test]
    fn the_trust_store_holds_exactly_the_given_certificates() {
        // Two throwaway self-signed roots (made once with openssl, keys discarded).
        let dir = std::env::temp_dir().join(format!("dg-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("two.pem");
        std::fs::write(&file, format!("{CERT_A}{CERT_B}")).unwrap();
        let store = root_store(&Roots::File(file.clone())).unwrap();
        assert_eq!(store.len(), 2, "exactly the file's two certificates");
        std::fs::write(&file, CERT_A).unwrap();
        assert_eq!(root_store(&Roots::File(file.clone())).unwrap().len(), 1);
        std::fs::write(&file, "not a certificate\n").unwrap();
        let e = root_store(&Roots::File(file.clone())).unwrap_err();
        assert!(e.contains("holds no PEM certificate"), "{e}");
        let e = root_store(&Roots::File(dir.join("missing.pem"))).unwrap_err();
        assert!(e.contains("cannot read root certificate file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_open_private_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("dg-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("k.pem");
        std::fs::write(&key, "x").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let r = check_key_permissions(&key);
        assert!(r.is_err(), "0644 is group/world readable");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(check_key_permissions(&key).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    const CERT_A: &str = include_str!("../../tests/fixtures/tls/root_a.pem");
    const CERT_B: &str = include_str!("../../tests/fixtures/tls/root_b.pem");
}
