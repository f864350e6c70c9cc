//! Wires an agent together: store, uplink to the hub, local API on a mutual-TLS listener.

use crate::config::AgentConfig;
use crate::grpc::local::LocalService;
use crate::grpc::response::ResponseApi;
use crate::grpc::soc::SocApi;
use crate::response::ResponseEngine;
use crate::service::link::{LinkService, RaiseLimits};
use crate::service::raise_commit::RaiseCommitter;
use crate::service::{Clock, SocService, SocSettings, SystemClock};
use crate::soc::alert::ParseLimits;
use crate::store::{AgentStore, StoreError};
use crate::uplink::{self, UplinkSettings, UplinkState};
use socfed_proto::identity::Identity;
use socfed_proto::pb::site_casework_server::SiteCaseworkServer;
use socfed_proto::pb::site_local_server::SiteLocalServer;
use socfed_proto::pb::site_response_server::SiteResponseServer;
use socfed_proto::pb::site_runbooks_server::SiteRunbooksServer;
use socfed_proto::pb::site_soc_server::SiteSocServer;
use socfed_proto::vocab::ReportLimits;
use socfed_runtime::listen::{DescriptorBudget, Gate, ListenLimits};
use socfed_runtime::tls::{ExpectedServer, Swappable, TlsError, TlsMaterial, tls_incoming};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("tls: {0}")]
    Tls(#[from] TlsError),
    #[error(
        "the certificate names {found}, but site_id is {expected:?}; issue a certificate for this site with `sirt-hub pki issue --site {expected}`"
    )]
    WrongIdentity { found: String, expected: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("reflection: {0}")]
    Reflection(String),
    #[error(transparent)]
    AuditKey(#[from] socfed_runtime::audit_key::AuditKeyError),
    #[error(transparent)]
    Webhook(#[from] socfed_runtime::webhook::SinkError),
    #[error("webhook cursors: {0}")]
    WebhookCursors(socfed_runtime::webhook::SourceError),
}

impl StartError {
    /// Errors an operator fixes in the config or the files it names (exit status 78).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            StartError::Tls(_)
                | StartError::WrongIdentity { .. }
                | StartError::AuditKey(_)
                | StartError::Webhook(_)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error("server: {0}")]
    Server(#[from] tonic::transport::Error),
    #[error("an agent task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct RunningAgent {
    pub local_addr: SocketAddr,
    /// Where the SOC console listens, when `[web]` turns it on.
    pub web_addr: Option<SocketAddr>,
    web: Option<tokio::task::JoinHandle<()>>,
    web_gate: Option<Arc<Gate>>,
    pub store: Arc<AgentStore>,
    shutdown: CancellationToken,
    /// The local SOC (tests drive its SLA clock directly).
    pub soc: Arc<SocService>,
    /// What the HTTP API (`crate::api`) serves from: the web listener mounts
    /// `api::router(running.api.clone())` under `/api/v1`.
    pub api: crate::api::ApiState,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    uplink: tokio::task::JoinHandle<()>,
    sla_clock: tokio::task::JoinHandle<()>,
    /// The raise committer (`service/raise_commit.rs`); ends once the server dropped its queue.
    committer: tokio::task::JoinHandle<()>,
    watcher: tokio::task::JoinHandle<()>,
    /// One delivery loop per `[[webhooks]]` sink (`webhooks.rs`).
    webhooks: Vec<tokio::task::JoinHandle<()>>,
    uplink_state: Arc<UplinkState>,
    outbox_cap: u64,
    gate: Arc<Gate>,
    budget: Arc<DescriptorBudget>,
    connections: ListenLimits,
}

pub async fn start(config: AgentConfig) -> Result<RunningAgent, StartError> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// As [`start`], with the local SOC reading time from `clock` (tests use a manual clock).
pub async fn start_with_clock(
    config: AgentConfig,
    clock: Arc<dyn Clock>,
) -> Result<RunningAgent, StartError> {
    let tls = TlsMaterial::load(&config.tls, config.trust_domain.clone())?;
    // Re-checks every call against the CRL in force and closes revoked connections.
    let revocation = socfed_runtime::revocation::Revocation::new(&tls)?;
    if tls.own.identity != Identity::Site(config.site_id.clone()) {
        return Err(StartError::WrongIdentity {
            found: tls.own.uri.clone(),
            expected: config.site_id.to_string(),
        });
    }
    // Secret, header and CA files are read now: a missing one is a configuration error.
    let sinks = socfed_runtime::webhook::load_all(&config.webhooks)?;
    let (audit_key, _) = socfed_runtime::audit_key::load_or_create(
        &socfed_runtime::audit_key::path_for(&config.tls.key),
    )?;
    let store = Arc::new(AgentStore::open(
        &config.data_dir,
        config.durability.mode,
        config.outbox.cache_bytes,
        audit_key,
    )?);
    // Before anything can write a notification: a new sink starts after the newest one.
    let (webhook_source, webhook_ledger) = crate::webhooks::parts(&store, &config.site_id, &clock);
    socfed_runtime::webhook::prepare(&sinks, &*webhook_source, &*webhook_ledger)
        .map_err(StartError::WebhookCursors)?;
    let listener = tokio::net::TcpListener::bind(config.local_api.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.local_api.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.local_api.listen,
        source,
    })?;
    let web_listener = match &config.web {
        Some(web) => {
            Some(
                crate::web::Bound::bind(web)
                    .await
                    .map_err(|source| StartError::Bind {
                        addr: web.listen,
                        source,
                    })?,
            )
        }
        None => None,
    };
    let shutdown = CancellationToken::new();
    // The open-file limit raised, and the share of it the listeners may use (the rest is the
    // store's).
    let budget = DescriptorBudget::from_rlimit();
    let gate = Gate::new(
        "local_api",
        config.connections.clone(),
        budget.clone(),
        true,
        &shutdown,
    );
    tokio::spawn(stop_on_store_failure(store.clone(), shutdown.clone()));
    let state = Arc::new(UplinkState::default());
    let state_for_health = state.clone();

    let settings = UplinkSettings {
        site: config.site_id.clone(),
        hubs: config.hub_targets(),
        window: config.hub.window,
        max_message_bytes: config.hub.max_message_bytes,
        backoff_initial: config.hub.backoff_initial,
        backoff_max: config.hub.backoff_max,
        status_interval: config.hub.status_interval,
    };
    let client_tls = Swappable::new(tls.client_config(ExpectedServer::Hub)?);
    let server_tls = Swappable::new(tls.server_config()?);
    // The console's HTTPS (and `/api/v1` on it): the same certificate; a client certificate
    // is asked for but optional (the API's operators present one, browsers and shippers need
    // not), so the API honours one only on a request that is not cross-site (`api::auth`).
    let https_tls = Swappable::new(tls.https_server_config()?);
    let revoked = Arc::new(socfed_runtime::web::revoked::Revoked::of(&tls));
    let (reload_client, reload_server) = (client_tls.clone(), server_tls.clone());
    let (reload_https, reload_revoked) = (https_tls.clone(), revoked.clone());
    // Detached: it ends with the shutdown token.
    drop(socfed_runtime::tls_reload::watch(
        config.tls.clone(),
        config.trust_domain.clone(),
        config.tls_reload_interval,
        shutdown.clone(),
        revocation.clone(),
        move |material| {
            reload_client.replace(material.client_config(ExpectedServer::Hub)?);
            reload_server.replace(material.server_config()?);
            reload_https.replace(material.https_server_config()?);
            reload_revoked.replace_from(material);
            Ok(())
        },
        || {},
    ));
    let (engine, updates) = ResponseEngine::new(
        store.clone(),
        config.response.clone(),
        config.site_id.clone(),
        clock.clone(),
    );
    engine.resume()?;
    let group_tap = engine.new_groups();

    let soc = Arc::new(SocService {
        store: store.clone(),
        settings: SocSettings {
            site: config.site_id.clone(),
            sla: config.soc.sla.clone(),
            escalation: config.soc.escalation.clone(),
            aggregation_window_ms: i64::try_from(config.soc.aggregation_window.as_millis())
                .unwrap_or(i64::MAX),
            duplicate_window_ms: i64::try_from(config.soc.duplicate_window.as_millis())
                .unwrap_or(i64::MAX),
            parse_limits: ParseLimits {
                max_line_bytes: config.soc.max_line_bytes,
                max_raw_bytes: config.soc.max_raw_bytes,
            },
            report_limits: ReportLimits::default(),
            outbox_cap: config.outbox.max_entries,
            on_full: config.outbox.on_full,
            managers: config.soc.managers.clone(),
            rotation: config.soc.rotation.clone(),
        },
        clock,
        group_tap: Some(group_tap),
        console_refusals: Default::default(),
        revoked: revoked.clone(),
    });
    // Hits of library hunts raise alerts through this intake: connected before the watcher
    // and the uplink start, so no directive or watch meets an engine without it.
    engine.set_intake(soc.clone());
    let watcher = tokio::spawn(engine.clone().watch(shutdown.clone()));
    let uplink = tokio::spawn(uplink::run(
        store.clone(),
        client_tls.clone(),
        settings,
        state.clone(),
        uplink::Directives {
            engine: engine.clone(),
            updates,
        },
        shutdown.clone(),
    ));
    let api = crate::api::ApiState::new(soc.clone(), revocation.clone());
    if store.rebuild_sla_agenda_if_changed(&config.soc.sla)? {
        tracing::info!(
            "SLA policy changed (or first start): SLA agenda rebuilt from the alert groups"
        );
    }
    let webhooks =
        crate::webhooks::start(sinks, webhook_source, webhook_ledger, &soc.clock, &shutdown);
    let sla_clock = tokio::spawn(run_sla_clock(
        soc.clone(),
        config.soc.sla_check_interval,
        shutdown.clone(),
    ));
    let (committer, committer_task) = RaiseCommitter::start(
        soc.clone(),
        RaiseLimits {
            uplink: state.clone(),
            max_report_bytes: config.hub.max_message_bytes,
        },
    );
    let local = LocalService {
        link: Arc::new(LinkService {
            soc: soc.clone(),
            uplink: state,
            committer,
        }),
    };
    let served = [
        "socfed.v1.SiteLocal",
        "socfed.v1.SiteSoc",
        "socfed.v1.SiteResponse",
        "socfed.v1.SiteCasework",
        "socfed.v1.SiteRunbooks",
    ];
    let health = socfed_runtime::server::health(&served).await;
    let (reflection, reflection_v1alpha) = socfed_runtime::server::reflection(&served)
        .map_err(|e| StartError::Reflection(e.to_string()))?;
    let incoming = tls_incoming(
        listener,
        server_tls,
        config.trust_domain.clone(),
        gate.clone(),
    );
    let signal = shutdown.clone();
    let server = tokio::spawn(
        socfed_runtime::server::builder(&config.connections)
            .layer(socfed_runtime::server::LatencyLayer)
            .layer(tonic::service::InterceptorLayer::new(
                socfed_runtime::revocation::RequireCurrentPeer(revocation.clone()),
            ))
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(
                // A `RaiseIncidents` batch up to twice its cap decodes, so one just over the
                // cap is told that cap (`service::link::MAX_BATCH_BYTES`).
                SiteLocalServer::new(local).max_decoding_message_size(
                    config
                        .hub
                        .max_message_bytes
                        .max(2 * crate::service::link::MAX_BATCH_BYTES),
                ),
            )
            // Alert batches carry many lines: allow a batch of maximum-size lines.
            .add_service(
                SiteResponseServer::new(ResponseApi {
                    soc: soc.clone(),
                    engine: engine.clone(),
                })
                .max_decoding_message_size(config.hub.max_message_bytes),
            )
            .add_service(SiteCaseworkServer::new(
                crate::grpc::casework::CaseworkApi {
                    service: soc.clone(),
                },
            ))
            .add_service(
                SiteRunbooksServer::new(crate::grpc::runbooks::RunbooksApi {
                    service: soc.clone(),
                })
                .max_decoding_message_size(config.hub.max_message_bytes),
            )
            .add_service(
                SiteSocServer::new(SocApi {
                    service: soc.clone(),
                    intake_streams: Arc::new(tokio::sync::Semaphore::new(
                        crate::grpc::soc::MAX_INTAKE_STREAMS,
                    )),
                    console_url: web_listener
                        .as_ref()
                        .map(|bound| Arc::from(bound.base_url.as_str())),
                })
                .max_decoding_message_size(
                    config
                        .soc
                        .max_line_bytes
                        .saturating_mul(8)
                        .max(config.hub.max_message_bytes),
                ),
            )
            .serve_with_incoming_shutdown(incoming, async move { signal.cancelled().await }),
    );
    let (web, web_gate, web_addr) = match (web_listener, &config.web) {
        (Some(bound), Some(web)) => {
            let state = crate::web::WebState {
                changes: crate::web::watch(&store, shutdown.clone()),
                soc: soc.clone(),
                engine: engine.clone(),
                revoked,
                session_ttl_ms: web.session_ms(),
            };
            // Browsers bring no client certificate: every connection is established (and
            // capped, and timed) by the same gate as the other listeners.
            let gate = Gate::new(
                "console",
                config.connections.clone(),
                budget.clone(),
                false,
                &shutdown,
            );
            let at = bound.addr;
            let task = bound.serve(
                https_tls,
                config.trust_domain.clone(),
                (state, api.clone()),
                gate.clone(),
                shutdown.clone(),
            );
            (Some(task), Some(gate), Some(at))
        }
        _ => (None, None, None),
    };
    tracing::info!(site = %config.site_id, %local_addr, hub = %config.hub.address_list().join(","), epoch = %store.epoch(), backlog = store.outbox_len(), "site agent running");
    Ok(RunningAgent {
        local_addr,
        web_addr,
        web,
        web_gate,
        store,
        soc,
        api,
        shutdown,
        server,
        uplink,
        sla_clock,
        committer: committer_task,
        watcher,
        webhooks,
        uplink_state: state_for_health,
        outbox_cap: config.outbox.max_entries,
        gate,
        budget,
        connections: config.connections,
    })
}

/// After a failed write the store takes nothing more and only a reopen shows what is on
/// disk: stop the agent, so that `wait` returns the failure and a supervisor restarts it.
async fn stop_on_store_failure(store: Arc<AgentStore>, shutdown: CancellationToken) {
    let failed = store.failed();
    tokio::select! {
        () = failed.cancelled() => {
            tracing::error!("stopping: the store failed a write; restart the agent to reopen it");
            shutdown.cancel();
        }
        () = shutdown.cancelled() => {}
    }
}

/// Runs the SLA clock every `interval` until shutdown.
async fn run_sla_clock(
    soc: Arc<SocService>,
    interval: std::time::Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let soc = soc.clone();
        // The tick also writes the counts of a console refusal window that has ended.
        let tick = move || {
            if let Err(error) = soc.flush_console_refusals(false) {
                tracing::error!(%error, "console refusals could not be audited yet");
            }
            soc.sla_tick()
        };
        match tokio::task::spawn_blocking(tick).await {
            Ok(Ok(acted)) if !acted.is_empty() => tracing::info!(
                groups = acted.len(),
                "SLA clock escalated breached alert groups"
            ),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "SLA clock failed; will retry"),
            Err(e) => tracing::error!(error = %e, "SLA clock task failed"),
        }
    }
}

impl RunningAgent {
    /// The uplink's state: connection, what the hub advertised, escalations and batches sent.
    pub fn uplink(&self) -> &Arc<UplinkState> {
        &self.uplink_state
    }

    /// What `/readyz` reports: not ready once stopping or when the outbox is full (new
    /// escalations would be refused or displace older ones); a lost hub link is a warning,
    /// because the site keeps working and queues.
    pub fn readiness(&self) -> socfed_runtime::admin::ReadinessCheck {
        let (shutdown, store, uplink, cap) = (
            self.shutdown.clone(),
            self.store.clone(),
            self.uplink_state.clone(),
            self.outbox_cap,
        );
        Arc::new(move || {
            let mut r = socfed_runtime::admin::Readiness::default();
            if shutdown.is_cancelled() {
                r.blockers.push("the agent is shutting down".into());
            }
            if let Some(failure) = store.failure() {
                r.blockers.push(failure.to_string());
            }
            let backlog = store.outbox_len();
            if backlog >= cap {
                r.blockers.push(format!(
                    "the outbox is full ({backlog} of {cap} escalations): new ones are refused or displace older ones until the hub is reachable"
                ));
            } else if backlog * 10 >= cap * 9 {
                r.warnings
                    .push(format!("the outbox is at {backlog} of {cap} escalations"));
            }
            if !uplink.connected.load(std::sync::atomic::Ordering::Relaxed) {
                let last = uplink
                    .last_error
                    .lock()
                    .map(|e| e.clone())
                    .unwrap_or_default();
                r.warnings.push(format!(
                    "not connected to the hub ({last}); escalations are queued"
                ));
            }
            r
        })
    }

    /// The admission of an admin listener: the agent's caps and timers, within its
    /// descriptor budget, closing with the agent.
    pub fn admin_gate(&self) -> Arc<Gate> {
        Gate::new(
            "admin",
            self.connections.clone(),
            self.budget.clone(),
            false,
            &self.shutdown,
        )
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn stop(self) -> Result<(), StopError> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the agent stops (after its shutdown token is cancelled), then flushes.
    pub async fn wait(mut self) -> Result<(), StopError> {
        // The local API and the console drain side by side: one grace period at most. Open
        // event streams (browsers) never end on their own; the console's gate closes them.
        let (web_task, web_gate, shutdown) = (&mut self.web, &self.web_gate, &self.shutdown);
        let web = async move {
            if let (Some(web), Some(gate)) = (web_task.as_mut(), web_gate.as_ref()) {
                socfed_runtime::server::join_http(web, shutdown, gate).await;
            }
        };
        let (served, ()) = tokio::join!(
            socfed_runtime::server::join_server(&mut self.server, shutdown, &self.gate),
            web
        );
        served?;
        self.sla_clock.await?;
        // The server is gone, and with it the committer's queue: its last fold is answered.
        // Bounded, in case a connection still holds the service.
        if tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.committer)
            .await
            .is_err()
        {
            tracing::warn!("the raise committer did not end with the server");
            self.committer.abort();
        }
        self.uplink.await?;
        self.watcher.await?;
        // An attempt in flight is abandoned: its event is sent again after the restart.
        for webhook in std::mem::take(&mut self.webhooks) {
            webhook.await?;
        }
        // The API's token uses on reads still counted in memory go to the audit log.
        if let Err(error) = self.api.flush_usage().await {
            tracing::error!(%error, "API token uses could not be audited at stop");
        }
        // The console's refusals still counted in memory go to the audit log.
        if let Err(error) = self.soc.flush_console_refusals(true) {
            tracing::error!(%error, "console refusals could not be audited at stop");
        }
        // A failed store is not flushed again: the restart recovers what is on disk.
        if let Some(failure) = self.store.failure() {
            return Err(failure.into());
        }
        self.store.close()?;
        tracing::info!("site agent stopped");
        Ok(())
    }
}
