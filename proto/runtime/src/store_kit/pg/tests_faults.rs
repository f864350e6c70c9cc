//! Tests of the PostgreSQL backend at its edges: TLS verification, an unreachable database,
//! a restarted or stopped one (on a cluster of the test's own, started with `.ci/postgres`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::tests::{required, test_db, wait_event};
use super::*;

#[test]
fn verify_full_checks_the_server_certificate() {
    let Some(db) = test_db() else { return };
    if !db.url.contains("sslmode=verify-full") {
        assert!(
            !required(),
            "SOCFED_REQUIRE_PG=1 needs a verify-full test URL"
        );
        return;
    }
    let store = db.store(&[]);
    let rows = store
        .query(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("query");
    assert!(rows[0].get::<_, bool>(0));
    assert_eq!(
        rows[0].get::<_, Option<String>>(1).as_deref(),
        Some("TLSv1.3")
    );
    // Roots that did not issue the server's certificate: refused.
    let dir = tempfile::tempdir().expect("tempdir");
    let other_ca = dir.path().join("other.pem");
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec![]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    std::fs::write(&other_ca, params.self_signed(&key).expect("ca").pem()).expect("write");
    let mut config = db.config();
    config.ca_file = Some(other_ca);
    match PgStore::connect(&config, &[]) {
        Err(PgError::Unavailable(m)) => {
            assert!(m.contains("certificate") || m.contains("issuer"), "{m}")
        }
        other => panic!("an unknown server certificate was accepted: {other:?}"),
    }
    // The password never appears in what a refusal says.
    let password = db
        .url
        .split_once("://")
        .and_then(|(_, r)| r.split_once('@'))
        .map(|(u, _)| u);
    let shown = format!("{:?}", PgStore::connect(&config, &[]).err());
    if let Some((_, pw)) = password.and_then(|u| u.split_once(':')) {
        assert!(!shown.contains(pw));
    }
}

#[test]
fn an_unreachable_database_fails_fast_as_unavailable() {
    // A port nobody listens on, and one that accepts but never answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    for port in [closed_port, silent_port] {
        let mut config = PgConfig::new(format!(
            "postgres://u:p@127.0.0.1:{port}/db?sslmode=disable"
        ));
        config.connect_timeout = Duration::from_millis(500);
        let started = Instant::now();
        let result = PgStore::connect(&config, &[]);
        assert!(matches!(result, Err(PgError::Unavailable(_))), "{result:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }
    drop(silent);
}

/// A cluster of its own (the shared one must not restart under other tests), stopped at drop.
struct OwnCluster {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl OwnCluster {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/postgres")
    }
    fn run(&self, cmd: &str) -> String {
        let out = std::process::Command::new("bash")
            .arg(Self::script())
            .arg(cmd)
            .arg(self.dir.path())
            .output()
            .expect("run .ci/postgres");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn start() -> Self {
        let mut me = Self {
            dir: tempfile::tempdir().expect("tempdir"),
            env: vec![],
        };
        let out = me.run("start");
        me.env = out
            .lines()
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        me
    }
    /// Where the cluster's files are (DIR, or where DIR/home points).
    fn home(&self) -> PathBuf {
        match std::fs::read_to_string(self.dir.path().join("home")) {
            Ok(home) => PathBuf::from(home.trim()),
            Err(_) => self.dir.path().to_path_buf(),
        }
    }
    fn var(&self, name: &str) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .expect(name)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(Self::script())
            .arg("remove")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_restarted_database_is_reconnected_and_a_stopped_one_fails_fast() {
    let Some(_shared) = test_db() else { return };
    let cluster = OwnCluster::start();
    let mut config = PgConfig::new(cluster.var("SOCFED_TEST_PG_URL"));
    config.ca_file = Some(cluster.var("SOCFED_TEST_PG_CA").into());
    config.connect_timeout = Duration::from_secs(1);
    config.pool_size = 2;
    let store = PgStore::connect(&config, &[]).expect("connect");
    let tree = store.tree("t");
    tree.insert(b"k", b"1").expect("insert");
    let mut rx = store.subscribe(&["ch"]);
    cluster.run("restart");
    assert_eq!(
        tree.get(b"k").expect("the call after a restart").as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(
        wait_event(&mut rx, Duration::from_secs(10)),
        Some(PgEvent::Reconnected)
    );
    let mut unit = store.begin_unit().expect("begin");
    unit.notify("ch", "after").expect("notify");
    unit.commit().expect("commit");
    assert!(matches!(
        wait_event(&mut rx, Duration::from_secs(5)),
        Some(PgEvent::Notification { .. })
    ));
    cluster.run("stop");
    let started = Instant::now();
    assert!(matches!(tree.get(b"k"), Err(PgError::Unavailable(_))));
    assert!(matches!(
        store.begin_unit().map(drop),
        Err(PgError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    cluster.run("start");
    tree.insert(b"k", b"2").expect("the call after a start");
}

/// A CA and a server certificate for the loopback names, made here with rcgen (PEM).
fn test_ca_and_server() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_pem = ca.self_signed(&ca_key).expect("ca").pem();
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, ca_key).expect("issuer");
    let key = rcgen::KeyPair::generate().expect("key");
    let server = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("server");
    (ca_pem, server.pem(), key.serialize_pem())
}

#[test]
fn tls_modes_against_a_server_certificate_made_by_the_test() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(_shared) = test_db() else { return };
    let cluster = OwnCluster::start();
    let dir = &cluster.home();
    let (ca, cert, key) = test_ca_and_server();
    let owner = std::fs::metadata(dir.join("server.key")).expect("key file");
    for (name, pem) in [("server.pem", &cert), ("server.key", &key)] {
        let path = dir.join(name);
        std::fs::write(&path, pem).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("mode");
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).expect("owner");
    }
    cluster.run("restart");
    let test_ca = dir.join("test-ca.pem");
    std::fs::write(&test_ca, &ca).expect("write");
    let url = cluster.var("SOCFED_TEST_PG_URL");
    let tls_version = |url: &str, ca: Option<PathBuf>| {
        let mut config = PgConfig::new(url);
        config.ca_file = ca;
        let store = PgStore::connect(&config, &[])?;
        let rows = store.query(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )?;
        Ok::<_, PgError>(
            rows[0]
                .get::<_, bool>(0)
                .then(|| rows[0].get::<_, String>(1)),
        )
    };
    assert_eq!(
        tls_version(&url, Some(test_ca.clone())),
        Ok(Some("TLSv1.3".into()))
    );
    let refused = tls_version(&url, Some(cluster.var("SOCFED_TEST_PG_CA").into()));
    assert!(
        matches!(&refused, Err(PgError::Unavailable(m)) if m.contains("certificate")),
        "{refused:?}"
    );
    // `require` without a CA file encrypts without verifying; `disable` is plain TCP.
    let require = url.replace("sslmode=verify-full", "sslmode=require");
    assert_eq!(tls_version(&require, None), Ok(Some("TLSv1.3".into())));
    let disable = url.replace("sslmode=verify-full", "sslmode=disable");
    assert_eq!(tls_version(&disable, None), Ok(None));
}
