//! Hub replicas over one PostgreSQL database: what one replica's commits mean for the others.
//!
//! Every replica is active: it takes site streams and operator calls, and writes through its
//! own ingest writer. The database serialises their units of work (`store::postgres`), so the
//! store is one store; what each replica keeps in memory or serves live is brought up to date
//! here, from the [`wake::Wake`] every committed unit sends on [`wake::CHANNEL`]:
//!
//! - the streams of the sites this replica holds are woken for directives, incident states
//!   and runbook versions another replica wrote (directives are delivered by the replica that
//!   holds the site's stream);
//! - event-log readers (SSE, `incidents watch`) learn the new durable mark;
//! - the roster and incident membership every call is checked against are reloaded;
//! - a stream of a site that opened at another replica under a newer lease generation ends
//!   this replica's older one (newest stream wins, across replicas).
//!
//! When the listening connection was lost, notifications may have been missed: the replica
//! rescans (wakes every stream, reloads the roster and the event mark, checks every lease).

use crate::access::reader::Roles;
use crate::ingest::IngestHandle;
use crate::live::LiveSites;
use crate::store::HubStore;
use crate::store::wake::{self, Wake};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the listener hears from the database.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A payload on [`wake::CHANNEL`].
    Wake(String),
    /// The listening connection was re-established: notifications may have been missed.
    Rescan,
}

/// Listens on the store's database for other replicas' wakes, as [`Notice`]s.
pub fn follow_database(
    pg: &socfed_runtime::store_kit::pg::PgStore,
    shutdown: &CancellationToken,
) -> tokio::sync::mpsc::Receiver<Notice> {
    use socfed_runtime::store_kit::pg::PgEvent;
    use tokio::sync::broadcast::error::RecvError;
    let mut events = pg.subscribe(&[wake::CHANNEL]);
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    // What others committed between this replica's start-up reads and the LISTEN is caught
    // up once, as after a lost connection.
    let _ = tx.try_send(Notice::Rescan);
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        loop {
            let notice = tokio::select! {
                () = shutdown.cancelled() => break,
                event = events.recv() => match event {
                    Ok(PgEvent::Notification { payload, .. }) => Notice::Wake(payload),
                    Ok(PgEvent::Reconnected) | Err(RecvError::Lagged(_)) => Notice::Rescan,
                    Err(RecvError::Closed) => break,
                },
            };
            if tx.send(notice).await.is_err() {
                break;
            }
        }
    });
    rx
}

/// What a replica brings up to date when another replica commits.
#[derive(Clone)]
pub struct Replica {
    /// This replica's name, as its own wakes carry it.
    pub name: String,
    pub store: Arc<HubStore>,
    pub ingest: IngestHandle,
    pub roles: Roles,
    pub live: Arc<LiveSites>,
}

impl Replica {
    /// Handles notices until `shutdown`, or until the notice source ends.
    pub async fn follow(
        self,
        mut notices: tokio::sync::mpsc::Receiver<Notice>,
        shutdown: CancellationToken,
    ) {
        loop {
            let notice = tokio::select! {
                () = shutdown.cancelled() => break,
                notice = notices.recv() => match notice {
                    Some(notice) => notice,
                    None => break,
                },
            };
            match notice {
                Notice::Wake(payload) => match Wake::decode(&payload) {
                    // This replica's own commit: announced locally already, unless the commit's
                    // answer was lost (the unit then reported a failure): the roster and the
                    // streams are brought up to date anyway, which costs a read when nothing
                    // was missed.
                    Some(wake) if wake.replica == self.name => self.apply_own(&wake).await,
                    Some(wake) => self.apply(&wake).await,
                    None => {
                        tracing::warn!(
                            "a replica notification this build does not read; rescanning"
                        );
                        self.rescan().await;
                    }
                },
                Notice::Rescan => self.rescan().await,
            }
        }
    }

    async fn apply_own(&self, wake: &Wake) {
        self.ingest
            .wake_streams(&wake.directive_sites, &wake.state_sites);
        if wake.roster {
            self.reload_roster().await;
        }
    }

    async fn apply(&self, wake: &Wake) {
        if wake.every_site {
            self.ingest.wake_every_stream(&self.live);
        }
        self.ingest
            .wake_streams(&wake.directive_sites, &wake.state_sites);
        if wake.runbooks {
            self.ingest.wake_runbooks();
        }
        if let Some(seq) = wake.last_event {
            self.ingest.events_durable_through(seq);
            self.announce_incidents(wake.first_event.unwrap_or(seq), seq)
                .await;
        }
        if wake.roster {
            self.reload_roster().await;
        }
        if let Some(lease) = &wake.stream
            && self.live.end_if_older(&lease.site, lease.generation)
        {
            tracing::info!(site = %lease.site, replica = %wake.replica, "the site's stream opened at another replica; ending this replica's older stream");
        }
    }

    /// Tells this replica's incident watchers (`incidents watch`, the live pages) about the
    /// incidents events `first..=last` of the log (written by another replica) are about.
    async fn announce_incidents(&self, first: u64, last: u64) {
        use crate::events::EventKind;
        let store = self.store.clone();
        let changes = tokio::task::spawn_blocking(move || {
            let mut changes = Vec::new();
            for (_, event) in store.events_after(first.saturating_sub(1), last, 4096)? {
                let created = match event.kind {
                    EventKind::IncidentCreated { .. } => true,
                    EventKind::IncidentChanged { .. } => false,
                    _ => continue,
                };
                if let Some(record) = event
                    .incident
                    .and_then(|id| store.incident(id).ok().flatten())
                {
                    changes.push(crate::ingest::apply::IncidentChange { created, record });
                }
            }
            Ok::<_, crate::store::StoreError>(changes)
        })
        .await;
        match changes {
            Ok(Ok(changes)) => changes
                .into_iter()
                .for_each(|change| self.ingest.announce_change(change)),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the incidents another replica changed; watchers here see them on their next read")
            }
            Err(_) => {}
        }
    }

    async fn rescan(&self) {
        tracing::info!("replica notifications may have been missed; rescanning");
        self.ingest.wake_every_stream(&self.live);
        self.ingest.wake_runbooks();
        let store = self.store.clone();
        if let Ok(Ok(seq)) = tokio::task::spawn_blocking(move || store.last_event_seq()).await {
            self.ingest.events_durable_through(seq);
        }
        self.reload_roster().await;
        let store = self.store.clone();
        let held = self.live.leases();
        let newest = tokio::task::spawn_blocking(move || {
            held.into_iter()
                .filter_map(|(site, _)| Some((site.clone(), store.stream_lease(&site).ok()?)))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for (site, generation) in newest {
            self.live.end_if_older(&site, generation);
        }
    }

    async fn reload_roster(&self) {
        let store = self.store.clone();
        let read = tokio::task::spawn_blocking(move || {
            Ok::<_, crate::store::StoreError>((store.operators()?, store.incident_members()?))
        })
        .await;
        match read {
            Ok(Ok((operators, members))) => {
                self.roles.replace(&operators);
                self.roles.replace_members(members);
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot reload the roster another replica changed; calls are checked against the previous one until the next change")
            }
            Err(_) => {}
        }
    }
}
