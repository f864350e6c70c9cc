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
    cancel: CancellationToken,
}

#[derive(Debug, Default)]
pub struct LiveSites {
    inner: Mutex<(u64, HashMap<SiteId, LiveStream>)>,
}

impl LiveSites {
    /// Registers a new stream for `site`, cancelling any previous one. Returns its generation
    /// and the token that ends it.
    pub fn register(
        &self,
        site: &SiteId,
        remote: Option<std::net::SocketAddr>,
        parent: &CancellationToken,
        now: UnixMillis,
    ) -> (u64, CancellationToken) {
        let cancel = parent.child_token();
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0 += 1;
        let generation = guard.0;
        let entry = LiveStream {
            generation,
            since_ms: now,
            remote,
            cancel: cancel.clone(),
        };
        if let Some(previous) = guard.1.insert(site.clone(), entry) {
            tracing::info!(site = %site, "a new stream supersedes the previous one");
            previous.cancel.cancel();
        }
        (generation, cancel)
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

    pub fn get(&self, site: &SiteId) -> Option<LiveStream> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.get(site).cloned()
    }
}
