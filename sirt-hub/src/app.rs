//! Wires a hub together: store, ingest writer, gRPC services on a mutual-TLS listener.
//! `start` binds and returns a handle; tests and the binary use the same path.

use crate::config::{DashboardConfig, HubConfig};
use crate::grpc::comms::CommsService;
use crate::grpc::federation::FederationService;
use crate::grpc::operator::OperatorService;
use crate::grpc::response::ResponseService;
use crate::grpc::roster::RosterService;
use crate::ingest::{self, WriterSettings};
use crate::live::LiveSites;
use crate::store::{HubStore, StoreError};
use socfed_proto::pb::communications_server::CommunicationsServer;
use socfed_proto::pb::federation_server::FederationServer;
use socfed_proto::pb::operator_roster_server::OperatorRosterServer;
use socfed_proto::pb::operator_server::OperatorServer;
use socfed_proto::pb::response_server::ResponseServer;
use socfed_proto::pb::runbooks_server::RunbooksServer;
use socfed_proto::vocab::{ReportLimits, SiteId};
use socfed_runtime::listen::{DescriptorBudget, Gate, ListenLimits};
use socfed_runtime::tls::{TlsError, TlsMaterial, tls_incoming_observed};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("tls: {0}")]
    Tls(#[from] TlsError),
    #[error("the hub certificate must carry the hub identity, it carries {0}")]
    NotAHubCertificate(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the ingest writer: {0}")]
    Writer(std::io::Error),
    #[error("reflection: {0}")]
    Reflection(String),
    #[error("the ingest writer stopped while the roster was being loaded")]
    WriterStopped,
    #[error(transparent)]
    AuditKey(#[from] socfed_runtime::audit_key::AuditKeyError),
    #[error(transparent)]
    Webhook(#[from] socfed_runtime::webhook::SinkError),
    #[error("webhook cursors: {0}")]
    WebhookCursors(socfed_runtime::webhook::SourceError),
    #[error(transparent)]
    StoreUrl(#[from] crate::config::UrlFileError),
}

#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error("server: {0}")]
    Server(#[from] tonic::transport::Error),
    #[error("a hub task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("the ingest writer panicked")]
    WriterPanicked,
    #[error("the store failed: {0}; fix the cause the log names, then start the hub again")]
    Storage(std::sync::Arc<crate::store::StoreError>),
}

impl StartError {
    /// Errors an operator fixes in the config or the files it names (exit status 78).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            StartError::Tls(_)
                | StartError::NotAHubCertificate(_)
                | StartError::AuditKey(_)
                | StartError::Webhook(_)
                | StartError::StoreUrl(_)
        )
    }
}

/// A running hub. Dropping it does not stop it; call [`RunningHub::stop`].
pub struct RunningHub {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    writer: crate::ingest::WriterJoin,
    deadline_watch: tokio::task::JoinHandle<()>,
    /// Writes refusal records; holds an ingest handle, so it is joined before the writer.
    refusal_task: tokio::task::JoinHandle<()>,
    delivery: tokio::task::JoinHandle<()>,
    /// One delivery loop per `[[webhooks]]` sink (`webhooks.rs`); they hold an ingest handle.
    webhooks: Vec<tokio::task::JoinHandle<()>>,
    /// The dashboard, when enabled; it holds an ingest handle, so it is joined before the writer.
    web: Option<tokio::task::JoinHandle<()>>,
    /// Where the dashboard listens, when enabled.
    pub dashboard_addr: Option<SocketAddr>,
    live: Arc<LiveSites>,
    enrolled: crate::enrolment::Enrolled,
    /// Admission of the gRPC and dashboard listeners; they close what is still open after
    /// the shutdown grace.
    grpc_gate: Arc<Gate>,
    web_gate: Option<Arc<Gate>>,
    budget: Arc<DescriptorBudget>,
    connections: ListenLimits,
}

pub async fn start(config: HubConfig) -> Result<RunningHub, StartError> {
    let tls = TlsMaterial::load(&config.tls, config.trust_domain.clone())?;
    // Re-checks every call against the CRL in force and closes revoked connections.
    let revocation = socfed_runtime::revocation::Revocation::new(&tls)?;
    if tls.own.identity != socfed_proto::identity::Identity::Hub {
        return Err(StartError::NotAHubCertificate(tls.own.uri.clone()));
    }
    // Secret, header and CA files are read now: a missing one is a configuration error.
    let sinks = socfed_runtime::webhook::load_all(&config.webhooks)?;
    let (audit_key, _) = socfed_runtime::audit_key::load_or_create(
        &socfed_runtime::audit_key::path_for(&config.tls.key),
    )?;
    // A name for this process among the hub's replicas (its own wakes carry it).
    let replica = format!("hub-{}", ulid::Ulid::new());
    let store = Arc::new(match config.store.kind {
        crate::config::StoreKind::Sled => HubStore::open_with_cache(
            &config.data_dir,
            config.ingest.durability,
            config.ingest.cache_bytes,
            audit_key,
        )?,
        crate::config::StoreKind::Postgres => {
            let connection = config.store.connection()?;
            tracing::info!(database = %connection.redacted_url(), schema = %connection.schema, %replica, "opening the hub store in PostgreSQL");
            HubStore::open_postgres(
                &connection,
                replica.clone(),
                config.ingest.durability,
                audit_key,
            )?
        }
    });
    // Escalations a crash left journaled but not indexed, before anything else writes.
    ingest::replay(
        &store,
        i64::try_from(config.correlation.window.as_millis()).unwrap_or(i64::MAX),
    )?;
    let shutdown = CancellationToken::new();
    // Before any listener: the open-file limit raised, and the share of it connections may use.
    let budget = DescriptorBudget::from_rlimit();
    let grpc_gate = Gate::new(
        "grpc",
        config.connections.clone(),
        budget.clone(),
        true,
        &shutdown,
    );
    let (ingest, writer) = ingest::start(
        store.clone(),
        WriterSettings {
            max_batch: config.ingest.max_batch,
            correlation_window_ms: i64::try_from(config.correlation.window.as_millis())
                .unwrap_or(i64::MAX),
        },
        shutdown.clone(),
    )
    .map_err(StartError::Writer)?;
    // Before anything outside can make an event: a new sink starts after the newest one.
    let (webhook_source, webhook_ledger) = crate::webhooks::prepare(&sinks, &store, &ingest)
        .await
        .map_err(StartError::WebhookCursors)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let dashboard_listener = match &config.dashboard {
        Some(d) => {
            let bound = tokio::net::TcpListener::bind(d.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: d.listen,
                    source,
                })?;
            let at = bound.local_addr().map_err(|source| StartError::Bind {
                addr: d.listen,
                source,
            })?;
            Some((bound, at, d.base_url(at)))
        }
        None => None,
    };
    let live = Arc::new(LiveSites::default());
    // The store's enrolled sites, which `[[sites]]` only seeds (below, before any listener).
    let enrolled = crate::enrolment::Enrolled::new(store.clone());

    let (refusals, refusal_task) = crate::refusals::spawn(ingest.clone(), shutdown.clone());
    let federation = FederationService {
        refusals: refusals.clone(),
        ingest: ingest.clone(),
        store: store.clone(),
        live: live.clone(),
        enrolled: enrolled.clone(),
        limits: ReportLimits::default(),
        max_in_flight: config.limits.max_in_flight_per_stream,
        max_batch: config.limits.max_batch_escalations,
        max_message_bytes: config.limits.max_message_bytes,
        shutdown: shutdown.clone(),
    };
    let roles = Arc::new(crate::access::roster::RosterCache::default());
    seed_roster(&config, &ingest, &store, &roles).await?;
    // Replicas over one database: what the others commit reaches this one's streams, event
    // readers and roster.
    if let Some(shared) = store.shared() {
        let notices = crate::replicas::follow_database(&shared.pg, &shutdown);
        let replica = crate::replicas::Replica {
            name: replica.clone(),
            store: store.clone(),
            ingest: ingest.clone(),
            roles: roles.clone(),
            live: live.clone(),
        };
        tokio::spawn(replica.follow(notices, shutdown.clone()));
    }
    crate::enrolment::seed(&config.sites, &store, &ingest)
        .await
        .map_err(|_| StartError::WriterStopped)?;
    let (live_for_health, enrolled_for_health) = (live.clone(), enrolled.clone());
    let deliver = Arc::new(tokio::sync::Notify::new());
    let web_deliver = deliver.clone();
    let comms = CommsService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
        deliver: deliver.clone(),
        allow_self_approval: config.comms.allow_self_approval,
    };
    let delivery = tokio::spawn(crate::delivery::run(
        store.clone(),
        ingest.clone(),
        config.comms.clone(),
        deliver,
        shutdown.clone(),
    ));
    let webhooks = crate::webhooks::start(sinks, webhook_source, webhook_ledger, &shutdown);
    // Detached like the dashboard purge: it ends with the shutdown token, and a step in flight
    // is answered by the writer before it stops.
    drop(tokio::spawn(crate::pruning::run(
        ingest.clone(),
        config.response.clone(),
        shutdown.clone(),
    )));
    // Detached like the prune job: a run in flight is answered by the writer before it stops.
    drop(tokio::spawn(crate::hunt_schedule::run(
        store.clone(),
        ingest.clone(),
        enrolled.clone(),
        shutdown.clone(),
    )));
    let session_ttl_ms = config.dashboard.as_ref().map(DashboardConfig::session_ms);
    let roster = RosterService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
        dashboard: dashboard_listener.as_ref().map(|(_, _, base)| base.clone()),
    };
    let runbooks = crate::grpc::runbooks::RunbooksService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
    };
    let web_ingest = ingest.clone();
    let response = ResponseService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
        live: live.clone(),
        enrolled: enrolled.clone(),
    };
    let library = crate::grpc::hunt_library::HuntLibraryService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
        enrolled: enrolled.clone(),
    };
    let web_roles = roles.clone();
    let enrolment = crate::grpc::enrolment::EnrolmentService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
        live: live.clone(),
    };
    let observables = crate::grpc::observables::ObservablesService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
    };
    // One count of open watches for gRPC watches and `/api/v1/events` streams alike.
    let watches = crate::grpc::watches::WatchSlots::new(config.limits.max_watches_per_operator);
    let casework = crate::grpc::casework::CaseworkService {
        store: store.clone(),
        roles: roles.clone(),
        ingest: ingest.clone(),
    };
    let operator = OperatorService {
        store: store.clone(),
        roles,
        ingest,
        live,
        enrolled,
        shutdown: shutdown.clone(),
        watches: watches.clone(),
    };
    let max = config.limits.max_message_bytes;
    let served = [
        "socfed.v1.Federation",
        "socfed.v1.Operator",
        "socfed.v1.Response",
        "socfed.v1.Communications",
        "socfed.v1.OperatorRoster",
        "socfed.v1.Observables",
        "socfed.v1.HubCasework",
        "socfed.v1.Runbooks",
        "socfed.v1.HuntLibrary",
        "socfed.v1.SiteEnrolment",
    ];
    let health = socfed_runtime::server::health(&served).await;
    let (reflection, reflection_v1alpha) = socfed_runtime::server::reflection(&served)
        .map_err(|e| StartError::Reflection(e.to_string()))?;

    let watch = tokio::spawn(crate::deadlines::run(
        store.clone(),
        std::time::Duration::from_secs(60),
        shutdown.clone(),
    ));
    let server_tls = socfed_runtime::tls::Swappable::new(tls.server_config()?);
    let https_tls = socfed_runtime::tls::Swappable::new(tls.https_server_config()?);
    let (reload_target, reload_https) = (server_tls.clone(), https_tls.clone());
    let revoked = Arc::new(crate::web::Revoked::of(&tls));
    let reload_revoked = revoked.clone();
    let live_to_cut = live_for_health.clone();
    // Detached: it ends with the shutdown token and holds nothing the writer waits for.
    drop(socfed_runtime::tls_reload::watch(
        config.tls.clone(),
        config.trust_domain.clone(),
        config.tls_reload_interval,
        shutdown.clone(),
        revocation.clone(),
        move |material| {
            reload_target.replace(material.server_config()?);
            reload_https.replace(material.https_server_config()?);
            reload_revoked.replace_from(material);
            Ok(())
        },
        move || {
            let ended = live_to_cut.end_all();
            tracing::info!(
                streams = ended,
                "site streams ended to re-authenticate under the reloaded certificates and CRL"
            );
        },
    ));
    let mut web_gate = None;
    let (web, dashboard_addr) = match (dashboard_listener, session_ttl_ms) {
        (Some((bound, at, _)), Some(session_ttl_ms)) => {
            let state = crate::web::WebState {
                store: store.clone(),
                ingest: web_ingest,
                live: live_for_health.clone(),
                enrolled: enrolled_for_health.clone(),
                roles: web_roles,
                revoked,
                session_ttl_ms,
                refusals: refusals.clone(),
                deliver: web_deliver,
                allow_self_approval: config.comms.allow_self_approval,
                watches,
            };
            crate::web::spawn_purge(state.clone(), shutdown.clone());
            tracing::info!(%at, "dashboard listening (HTTPS)");
            // Browsers bring no client certificate: every connection is established (and
            // capped, and timed), people sign in with a token.
            let gate = Gate::new(
                "dashboard",
                config.connections.clone(),
                budget.clone(),
                false,
                &shutdown,
            );
            web_gate = Some(gate.clone());
            let task = crate::web::serve(
                bound,
                https_tls,
                config.trust_domain.clone(),
                state,
                gate,
                shutdown.clone(),
            );
            (Some(task), Some(at))
        }
        _ => (None, None),
    };
    let handshake_audit = refusals.clone();
    let incoming = tls_incoming_observed(
        listener,
        server_tls,
        config.trust_domain.clone(),
        grpc_gate.clone(),
        Arc::new(move |remote, reason| {
            handshake_audit.record(crate::refusals::Refusal {
                action: crate::refusals::ACTION,
                who: "unidentified (handshake refused)".into(),
                cert: String::new(),
                peer_ip: Some(remote.ip()),
                api: crate::refusals::HANDSHAKE.into(),
                reason,
            });
        }),
    );
    let signal = shutdown.clone();
    let server = tokio::spawn(
        socfed_runtime::server::builder(&config.connections)
            .layer(socfed_runtime::server::LatencyLayer)
            .layer(crate::grpc::refusal_layer::RefusalLayer(refusals))
            .layer(tonic::service::InterceptorLayer::new(
                socfed_runtime::revocation::RequireCurrentPeer(revocation.clone()),
            ))
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(FederationServer::new(federation).max_decoding_message_size(max))
            .add_service(OperatorServer::new(operator).max_decoding_message_size(max))
            .add_service(ResponseServer::new(response).max_decoding_message_size(max))
            .add_service(CommunicationsServer::new(comms).max_decoding_message_size(max))
            .add_service(OperatorRosterServer::new(roster).max_decoding_message_size(max))
            .add_service(
                socfed_proto::pb::observables_server::ObservablesServer::new(observables)
                    .max_decoding_message_size(max),
            )
            .add_service(
                socfed_proto::pb::hub_casework_server::HubCaseworkServer::new(casework)
                    .max_decoding_message_size(max),
            )
            .add_service(RunbooksServer::new(runbooks).max_decoding_message_size(max))
            .add_service(
                socfed_proto::pb::hunt_library_server::HuntLibraryServer::new(library)
                    .max_decoding_message_size(max),
            )
            .add_service(
                socfed_proto::pb::site_enrolment_server::SiteEnrolmentServer::new(enrolment)
                    .max_decoding_message_size(max),
            )
            .serve_with_incoming_shutdown(incoming, async move { signal.cancelled().await }),
    );
    tracing::info!(%addr, data_dir = %config.data_dir.display(), durability = ?config.ingest.durability, "hub listening");
    Ok(RunningHub {
        deadline_watch: watch,
        refusal_task,
        delivery,
        webhooks,
        web,
        dashboard_addr,
        live: live_for_health,
        enrolled: enrolled_for_health,
        addr,
        shutdown,
        server,
        writer,
        grpc_gate,
        web_gate,
        budget,
        connections: config.connections,
    })
}

/// Seeds an empty stored roster from `[[operators]]` (the first start), then loads the roster
/// for the services. Once the roster holds anyone, `sirt-hub operators` owns it: re-applying
/// the config at every start would bring back a role someone removed on purpose.
async fn seed_roster(
    config: &HubConfig,
    ingest: &crate::ingest::IngestHandle,
    store: &Arc<HubStore>,
    roles: &crate::access::roster::RosterCache,
) -> Result<(), StartError> {
    let stored = store.operators()?;
    let seeding: &[crate::config::HubOperator] = if stored.is_empty() {
        &config.operators
    } else {
        if !config.operators.is_empty() {
            tracing::info!(
                stored = stored.len(),
                "the stored roster is in force; [[operators]] in the config only seeds an empty roster (change roles with `sirt-hub operators`)"
            );
        }
        &[]
    };
    for operator in seeding {
        // Validated when the config was loaded.
        let Ok(role) = operator.role.parse::<crate::lifecycle::HubRole>() else {
            continue;
        };
        let change = crate::ingest::apply::RosterChange {
            name: operator.name.clone(),
            role: Some(role),
            actor: "config".into(),
            actor_cert: String::new(),
        };
        crate::service::Commands::on(ingest)
            .change_roster(change)
            .await
            .map_err(|_| StartError::WriterStopped)?;
    }
    roles.replace(&store.operators()?);
    roles.replace_members(store.incident_members()?);
    Ok(())
}

impl RunningHub {
    /// What `/readyz` reports: not ready once stopping (also when the ingest writer died, which
    /// stops the hub); sites not connected are a warning.
    pub fn readiness(&self) -> socfed_runtime::admin::ReadinessCheck {
        let (shutdown, live, enrolled) = (
            self.shutdown.clone(),
            self.live.clone(),
            self.enrolled.clone(),
        );
        Arc::new(move || {
            let mut r = socfed_runtime::admin::Readiness::default();
            if shutdown.is_cancelled() {
                r.blockers.push("the hub is shutting down".into());
            }
            // A failed read was logged: no warning about sites this time.
            let enrolled = enrolled.sites().unwrap_or_default();
            let away: Vec<&str> = enrolled
                .iter()
                .filter(|site| live.get(site).is_none())
                .map(SiteId::as_str)
                .collect();
            if !away.is_empty() {
                r.warnings.push(format!(
                    "{} of {} enrolled sites not connected: {}",
                    away.len(),
                    enrolled.len(),
                    away.join(", ")
                ));
            }
            r
        })
    }

    /// The admission of an admin listener: the hub's caps and timers, within its
    /// descriptor budget, closing with the hub.
    pub fn admin_gate(&self) -> Arc<Gate> {
        Gate::new(
            "admin",
            self.connections.clone(),
            self.budget.clone(),
            false,
            &self.shutdown,
        )
    }

    /// A token that stops the hub when cancelled (for signal handlers).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets every stream acknowledge what it already received, commits, and
    /// waits for the writer to finish.
    pub async fn stop(self) -> Result<(), StopError> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the hub stops (after its shutdown token is cancelled).
    pub async fn wait(mut self) -> Result<(), StopError> {
        // The gRPC and dashboard listeners drain side by side: the stop takes one grace
        // period at most, not one per listener. Open event streams (browsers) never end on
        // their own; the dashboard's gate closes them after the grace.
        let (web_task, web_gate, shutdown) = (&mut self.web, &self.web_gate, &self.shutdown);
        let web = async move {
            if let (Some(web), Some(gate)) = (web_task.as_mut(), web_gate.as_ref()) {
                socfed_runtime::server::join_http(web, shutdown, gate).await;
            }
        };
        let (served, ()) = tokio::join!(
            socfed_runtime::server::join_server(&mut self.server, shutdown, &self.grpc_gate),
            web
        );
        served?;
        self.deadline_watch.await?;
        // These hold ingest handles: they must end before the writer can.
        self.delivery.await?;
        for webhook in std::mem::take(&mut self.webhooks) {
            webhook.await?;
        }
        self.refusal_task.await?;
        // Streams end on shutdown and drop their handles, which stops the writer after its
        // last commit. A stream stuck on a client that stopped reading could hold a handle:
        // bounded wait, then exit; what was not acknowledged will be resent.
        let writer = self.writer;
        let failure = writer.failure();
        let joined = tokio::time::timeout(
            socfed_runtime::server::SHUTDOWN_GRACE,
            tokio::task::spawn_blocking(move || writer.join()),
        )
        .await;
        match joined {
            Ok(joined) => joined?
                .map_err(|_| StopError::WriterPanicked)?
                .map_err(StopError::Storage)?,
            Err(_) => {
                tracing::warn!("the ingest writer did not stop within the grace period");
                // Still a failure exit when storage failed: the supervisor must restart it.
                if let Some(cause) = failure.get().cloned() {
                    return Err(StopError::Storage(cause));
                }
            }
        }
        tracing::info!("hub stopped");
        Ok(())
    }
}
