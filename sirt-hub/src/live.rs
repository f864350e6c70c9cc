//! Which sites have a stream open right now. At most one stream per site: a new stream
//! supersedes the old one, which drains its acknowledgements and ends.

use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct LiveStream {
    pub generation: u64,
    pub since_ms: UnixMillis,
    pub remote: Option<std::net::SocketAddr>,
    /// The site's stream lease generation in the store, once the stream's hello is stored
    /// (`crate::replicas`): a stream opened at another replica under a newer one ends this.
    pub lease: Option<u64>,
    cancel: CancellationToken,
}

/// A stream just registered.
#[derive(Debug)]
pub struct Registered {
    pub generation: u64,
    pub cancel: CancellationToken,
    /// `Some(address)` when an open stream of the site was superseded (its peer address).
    pub superseded: Option<Option<std::net::SocketAddr>>,
}

impl Registered {
    /// The superseded stream came from another host: not a site reconnecting after a network
    /// blip (same address), but possibly someone else holding the site's key.
    pub fn taken_from(&self, remote: Option<std::net::SocketAddr>) -> Option<std::net::IpAddr> {
        let previous = self.superseded.flatten()?.ip();
        (remote.map(|r| r.ip()) != Some(previous)).then_some(previous)
    }
}

#[derive(Debug, Default)]
pub struct LiveSites {
    inner: Mutex<(u64, HashMap<SiteId, LiveStream>)>,
    /// The newest stream lease heard of per site (`crate::replicas`): a stream whose own
    /// lease is older, when it learns it, ends at once.
    newest_lease: Mutex<HashMap<SiteId, u64>>,
}

impl LiveSites {
    /// Registers a new stream for `site`, cancelling any previous one. Returns its generation,
    /// the token that ends it and the address of the stream it superseded, if one was open.
    pub fn register(
        &self,
        site: &SiteId,
        remote: Option<std::net::SocketAddr>,
        parent: &CancellationToken,
        now: UnixMillis,
    ) -> Registered {
        let cancel = parent.child_token();
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0 += 1;
        let generation = guard.0;
        let entry = LiveStream {
            generation,
            since_ms: now,
            remote,
            lease: None,
            cancel: cancel.clone(),
        };
        let superseded = guard.1.insert(site.clone(), entry).map(|previous| {
            tracing::info!(site = %site, "a new stream supersedes the previous one");
            previous.cancel.cancel();
            previous.remote
        });
        Registered {
            generation,
            cancel,
            superseded,
        }
    }

    pub fn unregister(&self, site: &SiteId, generation: u64) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if guard
            .1
            .get(site)
            .is_some_and(|s| s.generation == generation)
        {
            guard.1.remove(site);
        }
    }

    /// Ends every stream, so each site reconnects through a new handshake: used after the
    /// hub reloads its certificates or CRL, so a site revoked since it connected is cut off.
    pub fn end_all(&self) -> usize {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for stream in guard.1.values() {
            stream.cancel.cancel();
        }
        guard.1.len()
    }

    /// Records the store's lease generation of the stream `generation` of `site`.
    pub fn set_lease(&self, site: &SiteId, generation: u64, lease: u64) {
        let newest = self.heard(site, lease);
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(stream) = guard.1.get_mut(site)
            && stream.generation == generation
        {
            stream.lease = Some(lease);
            // A newer stream opened elsewhere before this one knew its lease.
            if newest > lease {
                stream.cancel.cancel();
            }
        }
    }

    /// Records `lease` as heard for `site`; the newest heard.
    fn heard(&self, site: &SiteId, lease: u64) -> u64 {
        let mut newest = self.newest_lease.lock().unwrap_or_else(|p| p.into_inner());
        let held = newest.entry(site.clone()).or_insert(lease);
        *held = (*held).max(lease);
        *held
    }

    /// Ends the site's stream here if it holds an older lease than `lease` (the site opened
    /// a newer stream at another replica). Whether one was ended.
    pub fn end_if_older(&self, site: &SiteId, lease: u64) -> bool {
        self.heard(site, lease);
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match guard.1.get(site) {
            Some(stream) if stream.lease.is_some_and(|held| held < lease) => {
                stream.cancel.cancel();
                true
            }
            _ => false,
        }
    }

    /// The sites with a stream open here, with their lease generations.
    pub fn leases(&self) -> Vec<(SiteId, Option<u64>)> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .1
            .iter()
            .map(|(site, stream)| (site.clone(), stream.lease))
            .collect()
    }

    /// Ends `site`'s open stream, if it has one (the site was removed: `service::enrolment`);
    /// whether one was open.
    pub fn end(&self, site: &SiteId) -> bool {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.get(site).map(|s| s.cancel.cancel()).is_some()
    }

    pub fn get(&self, site: &SiteId) -> Option<LiveStream> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.get(site).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(addr: &str) -> Option<std::net::SocketAddr> {
        addr.parse().ok()
    }

    #[test]
    fn a_stream_from_another_host_is_a_takeover_and_a_reconnect_is_not() {
        let live = LiveSites::default();
        let parent = CancellationToken::new();
        let paris = SiteId::parse("paris").expect("site");
        let first = live.register(&paris, at("192.0.2.10:40000"), &parent, 1);
        assert_eq!(
            first.taken_from(at("192.0.2.10:40000")),
            None,
            "nothing open before"
        );
        // The same host reconnecting (a new source port) is the site itself.
        let again = live.register(&paris, at("192.0.2.10:40001"), &parent, 2);
        assert!(first.cancel.is_cancelled(), "the superseded stream ends");
        assert_eq!(again.taken_from(at("192.0.2.10:40001")), None);
        // Another host presenting the same site's certificate takes the stream over.
        let other = live.register(&paris, at("198.51.100.5:5000"), &parent, 3);
        assert!(again.cancel.is_cancelled());
        assert_eq!(
            other.taken_from(at("198.51.100.5:5000")),
            "192.0.2.10".parse().ok()
        );
        // Another site is independent.
        let lyon = SiteId::parse("lyon").expect("site");
        let lyon_stream = live.register(&lyon, at("198.51.100.5:5001"), &parent, 4);
        assert_eq!(lyon_stream.superseded, None);
        assert!(!other.cancel.is_cancelled());
    }
}
