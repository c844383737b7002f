//! HTTPS with rustls on the ring provider: the server configuration from PEM files (TLS 1.3
//! and 1.2 only; HTTP/2 and HTTP/1.1 by ALPN), and a small certificate authority with a server
//! certificate for a station network that has no public names.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key}: cannot read {path}: {reason}")]
    Read {
        key: &'static str,
        path: String,
        reason: String,
    },
    #[error("{key}: {path} holds no {what}")]
    Empty {
        key: &'static str,
        path: String,
        what: &'static str,
    },
    #[error("tls.cert and tls.key do not make a usable pair: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The server side of TLS from a PEM certificate chain and its private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let shown = |p: &Path| p.display().to_string();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Read {
            key: "tls.cert",
            path: shown(cert),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            key: "tls.cert",
            path: shown(cert),
            what: "certificate",
        });
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Read {
        key: "tls.key",
        path: shown(key),
        reason: e.to_string(),
    })?;
    let mut provider = rustls::crypto::ring::default_provider();
    // AES-128-GCM first: as safe as AES-256 here and cheaper per byte on AES-capable CPUs,
    // which is what a county server is; ChaCha20 stays for clients without AES hardware.
    provider.cipher_suites.sort_by_key(|suite| {
        let name = format!("{:?}", suite.suite());
        (!name.contains("AES_128_GCM"), !name.contains("AES_256_GCM"))
    });
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, private)?;
    config.ignore_client_order = true;
    Ok(config)
}

/// A certificate authority and a server certificate it signed, in PEM.
pub struct StationCertificates {
    pub ca_cert: String,
    pub server_cert: String,
    pub server_key: String,
}

/// Makes a CA for the station network and a server certificate for `names` (host names or
/// IP addresses). Stations trust `ca_cert`; the server uses `server_cert` and `server_key`.
pub fn station_certificates(names: &[String]) -> Result<StationCertificates, TlsError> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "yuanjiao station network CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key)?;
    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(names.to_vec())?;
    server.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("yuanjiao", String::as_str),
    );
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key)?;
    Ok(StationCertificates {
        ca_cert: ca_cert.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
    })
}

/// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir`. The key is readable by its owner
/// only from the moment it exists (mode 0600 at creation, not changed after writing).
pub fn write_station_certificates(dir: &Path, names: &[String]) -> Result<(), TlsError> {
    let made = station_certificates(names)?;
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    for (file, text, mode) in [
        ("ca.pem", &made.ca_cert, 0o644),
        ("cert.pem", &made.server_cert, 0o644),
        ("key.pem", &made.server_key, 0o600),
    ] {
        let path = dir.join(file);
        write_new(&path, text.as_bytes(), mode).map_err(|source| TlsError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Writes `bytes` to a new file created with `mode` beside `path`, then renames it over
/// `path`: an existing file (perhaps readable by all) is replaced, never reused with its mode.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = path.with_file_name(format!(".{name}.{:016x}", rand::random::<u64>()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_certificates_load_into_a_server_config() {
        let dir = tempfile::tempdir().unwrap();
        write_station_certificates(dir.path(), &["localhost".into(), "127.0.0.1".into()]).unwrap();
        assert!(server_config(&dir.path().join("cert.pem"), &dir.path().join("key.pem")).is_ok());
    }

    #[test]
    fn the_private_key_is_made_readable_by_its_owner_only_even_over_an_old_one() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let mode = |file: &str| {
            std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        // A key left by an older run, readable by everyone.
        std::fs::write(dir.path().join("key.pem"), "old").unwrap();
        std::fs::set_permissions(
            dir.path().join("key.pem"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        write_station_certificates(dir.path(), &["localhost".into()]).unwrap();
        assert_eq!(mode("key.pem"), 0o600);
        assert_eq!(mode("cert.pem") & 0o600, 0o600);
        assert!(std::fs::read_to_string(dir.path().join("key.pem"))
            .unwrap()
            .contains("PRIVATE KEY"));
        // Nothing but the three files is left behind.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["ca.pem", "cert.pem", "key.pem"]);
    }

    #[test]
    fn the_server_chooses_aes_128_gcm_first() {
        let dir = tempfile::tempdir().unwrap();
        write_station_certificates(dir.path(), &["localhost".into()]).unwrap();
        let config =
            server_config(&dir.path().join("cert.pem"), &dir.path().join("key.pem")).unwrap();
        assert!(config.ignore_client_order);
        let first = format!("{:?}", config.crypto_provider().cipher_suites[0].suite());
        assert!(first.contains("AES_128_GCM"), "{first}");
    }

    #[test]
    fn bad_paths_name_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let missing = server_config(&dir.path().join("nope.pem"), &dir.path().join("key.pem"));
        assert!(missing.unwrap_err().to_string().starts_with("tls.cert"));
        write_station_certificates(dir.path(), &["localhost".into()]).unwrap();
        let no_key = server_config(&dir.path().join("cert.pem"), &dir.path().join("ca.pem"));
        assert!(no_key.unwrap_err().to_string().starts_with("tls.key"));
    }
}
