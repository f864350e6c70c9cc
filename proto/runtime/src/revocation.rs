//! The revocation list in force *now*, applied to connections that are already open.
//!
//! A TLS handshake checks the client certificate once; an HTTP/2 connection then carries any
//! number of calls and streams for as long as the client keeps it. So that `pki revoke` takes
//! effect on those too, this module owns:
//!
//! - [`Connection`]: what the listener attaches to each accepted connection (its certificate
//!   chain and a signal that closes it, which the connection's I/O watches);
//! - [`Revocation`]: the client verifier of the moment (chain, validity, CRL, EKU: the same one
//!   the handshake uses), re-run on every call by [`RequireCurrentPeer`]; on a CRL reload it
//!   re-verifies every registered connection and closes those that no longer pass, and when
//!   the CRL passes its nextUpdate it closes them all (`pki crl --help`: services refuse
//!   clients once the CRL they hold has expired);
//! - the CRL-number rule: a CRL older than the one in force is refused on reload, so copying
//!   an old `crl.pem` back cannot un-revoke a certificate.

use crate::peer::PeerInfo;
use crate::tls::{TlsError, TlsMaterial};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// One accepted connection as revocation sees it. Cloned into every request's [`PeerInfo`].
#[derive(Debug, Clone)]
pub struct Connection(Arc<Link>);

#[derive(Debug)]
struct Link {
    id: u64,
    /// The peer's certificate chain as presented (empty without a client certificate).
    chain: Vec<CertificateDer<'static>>,
    /// Who, for the log line that says why the connection was closed.
    who: String,
    cut: CancellationToken,
    registered: AtomicBool,
    /// The [`Revocation`] generation this connection last verified under (0: never).
    verified_in: AtomicU64,
}

impl Connection {
    pub fn new(chain: Vec<CertificateDer<'static>>, who: String) -> Self {
        Self(Arc::new(Link {
            id: NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed),
            chain,
            who,
            cut: CancellationToken::new(),
            registered: AtomicBool::new(false),
            verified_in: AtomicU64::new(0),
        }))
    }

    /// Completes when the connection must close; the connection's I/O polls it.
    pub fn cut_signal(&self) -> WaitForCancellationFutureOwned {
        self.0.cut.clone().cancelled_owned()
    }

    pub fn is_cut(&self) -> bool {
        self.0.cut.is_cancelled()
    }
}

/// Why a reloaded CRL was not put in force.
#[derive(Debug, thiserror::Error)]
pub enum CrlRefused {
    #[error(
        "the new CRL has CRL number {offered}, lower than the {loaded} in force: an older CRL would un-revoke certificates; keeping the current one (copy the newest crl.pem from the CA directory)"
    )]
    Older { offered: String, loaded: String },
    #[error("the CRL cannot be parsed: {0}")]
    Unparseable(String),
}

/// What the services need to know about a CRL besides its entries (which WebPKI checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlFacts {
    /// CRL number, big-endian without leading zeros (empty: none or zero).
    pub number: Vec<u8>,
    /// nextUpdate, seconds since the epoch.
    pub next_update: Option<i64>,
}

impl CrlFacts {
    /// Facts of the CRLs of one file: the highest number and the earliest nextUpdate.
    pub fn of(crls: &[impl AsRef<[u8]>]) -> Result<Option<Self>, CrlRefused> {
        let mut facts: Option<Self> = None;
        for der in crls {
            let (_, crl) = x509_parser::parse_x509_crl(der.as_ref())
                .map_err(|e| CrlRefused::Unparseable(e.to_string()))?;
            let number = crl
                .crl_number()
                .map(|n| n.to_bytes_be())
                .unwrap_or_default();
            let number: Vec<u8> = number.into_iter().skip_while(|b| *b == 0).collect();
            let next_update = crl.next_update().map(|t| t.timestamp());
            facts = Some(match facts {
                None => Self {
                    number,
                    next_update,
                },
                Some(seen) => Self {
                    number: if number_order(&number, &seen.number).is_gt() {
                        number
                    } else {
                        seen.number
                    },
                    next_update: match (seen.next_update, next_update) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    },
                },
            });
        }
        Ok(facts)
    }

    /// The CRL number in hex, as `openssl crl -text` shows it.
    pub fn number_hex(&self) -> String {
        if self.number.is_empty() {
            "0".into()
        } else {
            socfed_proto::hex::encode(&self.number)
        }
    }

    /// Past its nextUpdate at `now` (seconds since the epoch).
    pub fn expired_at(&self, now: i64) -> bool {
        self.next_update.is_some_and(|next| now > next)
    }
}

/// Orders two big-endian unsigned numbers without leading zeros.
fn number_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The client verifier in force and the connections it watches. Cheap to clone; one per
/// service, shared by its listeners, its interceptor and its reload task.
#[derive(Debug, Clone)]
pub struct Revocation(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    verifier: RwLock<Arc<dyn ClientCertVerifier>>,
    crl: RwLock<Option<CrlFacts>>,
    /// Bumped whenever what a certificate is checked against changes (reload, CRL expiry).
    generation: AtomicU64,
    /// The nextUpdate of the expired CRL whose expiry [`Revocation::tick`] acted upon.
    expiry_acted: AtomicI64,
    live: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    links: HashMap<u64, Weak<Link>>,
    prune_at: usize,
}

fn now_secs() -> i64 {
    i64::try_from(UnixTime::now().as_secs()).unwrap_or(i64::MAX)
}

impl Revocation {
    pub fn new(material: &TlsMaterial) -> Result<Self, TlsError> {
        let facts = CrlFacts::of(material.crls()).map_err(|e| TlsError::Verifier(e.to_string()))?;
        if facts.as_ref().is_some_and(|f| f.expired_at(now_secs())) {
            tracing::error!(
                "the CRL is past its nextUpdate: every client certificate is refused until it is re-signed (`sirt-hub pki crl`) and copied here"
            );
        }
        Ok(Self(Arc::new(Inner {
            verifier: RwLock::new(material.client_verifier()?),
            crl: RwLock::new(facts),
            generation: AtomicU64::new(1),
            expiry_acted: AtomicI64::new(i64::MIN),
            live: Mutex::new(Registry::default()),
        })))
    }

    /// The CRL in force (`None` without `[tls] crl`).
    pub fn crl(&self) -> Option<CrlFacts> {
        self.0.crl.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether `material`'s CRL may replace the one in force: not when its number is lower.
    pub fn admit(&self, material: &TlsMaterial) -> Result<(), CrlRefused> {
        let offered = CrlFacts::of(material.crls())?;
        match (self.crl(), offered) {
            (Some(loaded), Some(offered))
                if number_order(&offered.number, &loaded.number).is_lt() =>
            {
                Err(CrlRefused::Older {
                    offered: offered.number_hex(),
                    loaded: loaded.number_hex(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Puts `material`'s verifier and CRL in force and closes every registered connection
    /// whose certificate no longer verifies. Returns how many were closed.
    pub fn install(&self, material: &TlsMaterial) -> Result<usize, TlsError> {
        let verifier = material.client_verifier()?;
        let facts = CrlFacts::of(material.crls()).map_err(|e| TlsError::Verifier(e.to_string()))?;
        if facts.as_ref().is_some_and(|f| f.expired_at(now_secs())) {
            tracing::error!(
                "the reloaded CRL is already past its nextUpdate: every client certificate is refused until a current one is copied here (`sirt-hub pki crl`)"
            );
        }
        *self.0.verifier.write().unwrap_or_else(|p| p.into_inner()) = verifier;
        *self.0.crl.write().unwrap_or_else(|p| p.into_inner()) = facts;
        self.0.generation.fetch_add(1, Ordering::SeqCst);
        Ok(self.sweep("the reloaded certificates and CRL"))
    }

    /// Called periodically: the moment the CRL in force passes its nextUpdate, every
    /// connection is re-checked (and, the verifier enforcing CRL expiry, closed). Returns how
    /// many were closed.
    pub fn tick(&self) -> usize {
        let Some(facts) = self.crl() else { return 0 };
        let now = now_secs();
        if !facts.expired_at(now) {
            return 0;
        }
        // Once per expiry: remember which nextUpdate was acted upon.
        let marker = facts.next_update.unwrap_or(i64::MIN);
        if self.0.expiry_acted.swap(marker, Ordering::SeqCst) == marker {
            return 0;
        }
        tracing::error!(
            "the CRL in force passed its nextUpdate: every client certificate is refused and open connections are closed until a current CRL is copied here (`sirt-hub pki crl`)"
        );
        self.0.generation.fetch_add(1, Ordering::SeqCst);
        self.sweep("the expired CRL")
    }

    /// Checks the caller of one call or stream against what is in force now. A connection
    /// that fails is closed as well: every later call on it would fail the same way.
    pub fn check(&self, info: &PeerInfo) -> Result<(), String> {
        let link = &info.connection.0;
        let Some((leaf, intermediates)) = link.chain.split_first() else {
            // No certificate: `identity::require_verified_peer` refuses it.
            return Ok(());
        };
        if !link.registered.swap(true, Ordering::SeqCst) {
            self.register(link);
        }
        let generation = self.0.generation.load(Ordering::SeqCst);
        if link.verified_in.load(Ordering::SeqCst) == generation && !link.cut.is_cancelled() {
            return Ok(());
        }
        let verifier = self
            .0
            .verifier
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match verifier.verify_client_cert(leaf, intermediates, UnixTime::now()) {
            Ok(_) if !link.cut.is_cancelled() => {
                link.verified_in.store(generation, Ordering::SeqCst);
                Ok(())
            }
            Ok(_) => Err("this connection was closed by a certificate reload; reconnect".into()),
            Err(e) => {
                tracing::warn!(peer = %link.who, error = %e, "call refused and connection closed: the certificate no longer verifies");
                link.cut.cancel();
                Err(format!(
                    "client certificate no longer accepted: {e}; if it was revoked, ask for a new one (`sirt-hub pki issue`); if the CRL expired, re-sign it (`sirt-hub pki crl`)"
                ))
            }
        }
    }

    fn register(&self, link: &Arc<Link>) {
        let mut registry = self.0.live.lock().unwrap_or_else(|p| p.into_inner());
        registry.links.insert(link.id, Arc::downgrade(link));
        // Forget closed connections now and then, so the map follows the live count.
        if registry.links.len() >= registry.prune_at {
            registry.links.retain(|_, weak| weak.strong_count() > 0);
            registry.prune_at = registry.links.len().saturating_mul(2).max(64);
        }
    }

    /// Re-verifies every registered connection; closes those that fail.
    fn sweep(&self, cause: &str) -> usize {
        let links: Vec<Arc<Link>> = {
            let mut registry = self.0.live.lock().unwrap_or_else(|p| p.into_inner());
            registry.links.retain(|_, weak| weak.strong_count() > 0);
            registry.links.values().filter_map(Weak::upgrade).collect()
        };
        let verifier = self
            .0
            .verifier
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let generation = self.0.generation.load(Ordering::SeqCst);
        let now = UnixTime::now();
        let mut closed = 0;
        for link in links {
            let Some((leaf, intermediates)) = link.chain.split_first() else {
                continue;
            };
            match verifier.verify_client_cert(leaf, intermediates, now) {
                Ok(_) => link.verified_in.store(generation, Ordering::SeqCst),
                Err(e) => {
                    if !link.cut.is_cancelled() {
                        tracing::warn!(peer = %link.who, error = %e, "connection closed: its certificate no longer verifies under {cause}");
                        link.cut.cancel();
                        closed += 1;
                    }
                }
            }
        }
        closed
    }
}

/// The interceptor every listener installs: a verified client certificate
/// ([`crate::peer::require_verified_peer`]) that still verifies under the CRL in force.
#[derive(Debug, Clone)]
pub struct RequireCurrentPeer(pub Revocation);

impl tonic::service::Interceptor for RequireCurrentPeer {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let request = crate::peer::require_verified_peer(request)?;
        if let Some(info) = request.extensions().get::<PeerInfo>() {
            self.0.check(info).map_err(tonic::Status::unauthenticated)?;
        }
        Ok(request)
    }
}
