//! Delivers approved communications through the configured webhooks and records each outcome
//! through the ingest writer; failures are retried every `comms.retry_interval`, up to
//! `comms::MAX_ATTEMPTS` attempts.
//!
//! Webhook URLs often embed a secret token, so neither logs nor records ever hold the URL:
//! only its host.
//!
//! Delivery is at least once: a POST that timed out after the receiver took it, or a crash
//! between the POST and recording it, posts again. The payload carries `communication_id` so
//! receivers can drop repeats.

use crate::comms::{CommRecord, webhook};
use crate::config::CommsConfig;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::ingest::apply::{CommEdit, CommsChange};
use crate::service::Commands;
use crate::store::HubStore;
use socfed_runtime::cli::url_host as host_of;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const ACTOR: &str = crate::comms::DELIVERY_ACTOR;

pub async fn run(
    store: Arc<HubStore>,
    ingest: IngestHandle,
    config: CommsConfig,
    nudge: Arc<Notify>,
    shutdown: CancellationToken,
) {
    // The shared webhook client: no redirect is followed (a 3xx would re-send the brief to
    // wherever the answer points; a 307 keeps method and body). The delivery fails, naming
    // the redirect, and the operator configures the final URL.
    let http = match socfed_runtime::webhook::client::build(None) {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client; communications are not delivered");
            return;
        }
    };
    loop {
        deliver_pending(&store, &ingest, &config, &http).await;
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = nudge.notified() => {}
            () = tokio::time::sleep(config.retry_interval) => {}
        }
    }
}

async fn deliver_pending(
    store: &Arc<HubStore>,
    ingest: &IngestHandle,
    config: &CommsConfig,
    http: &reqwest::Client,
) {
    let reader = store.clone();
    let pending = match tokio::task::spawn_blocking(move || reader.comms_to_deliver()).await {
        Ok(Ok(pending)) => pending,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read communications to deliver; will retry");
            return;
        }
        Err(_) => return,
    };
    for record in pending {
        let Some(hook) = config.webhook_for(record.audience) else {
            // Delivered by hand and recorded with `incidents comms delivered`.
            continue;
        };
        let title = store
            .incident(record.incident)
            .ok()
            .flatten()
            .map(|i| i.title)
            .unwrap_or_default();
        let edit = post(http, hook, &record, &title).await;
        let change = CommsChange {
            incident: record.incident,
            edit,
            actor: ACTOR.into(),
            actor_cert: String::new(),
            role: None,
        };
        match Commands::on(ingest).change_comms(change).await {
            Ok(after) if !after.needs_delivery() && !after.counts_as_sent() => {
                tracing::error!(communication = %after.id, audience = %after.audience, attempts = crate::comms::MAX_ATTEMPTS, "communication not delivered; giving up: deliver it by hand and record it with `incidents comms delivered`, or draft it again");
            }
            // Refused: the communication changed meanwhile (withdrawn, recorded by hand), so
            // there is no delivery left to record.
            Ok(_) | Err(HubError::NotFound(_) | HubError::Refused(_)) => {}
            Err(_) => {
                tracing::warn!(communication = %record.id, "could not record a delivery outcome; will retry");
            }
        }
    }
}

async fn post(
    http: &reqwest::Client,
    hook: &crate::config::CommsWebhook,
    record: &CommRecord,
    title: &str,
) -> CommEdit {
    let host = host_of(&hook.url);
    let comm = record.id;
    let body = webhook::payload(record, title);
    match http
        .post(&hook.url)
        .json(&body)
        .timeout(hook.timeout)
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => {
            tracing::info!(communication = %comm, audience = %record.audience, %host, "communication delivered");
            metrics::counter!("socfed_hub_comms_deliveries_total", "outcome" => "delivered")
                .increment(1);
            CommEdit::Delivered {
                comm,
                channel: format!("webhook {host}"),
            }
        }
        Ok(response) => {
            let status = response.status();
            let error = if status.is_redirection() {
                format!(
                    "webhook {host} answered HTTP {} (a redirect: not followed, the brief is sent to the configured URL only; configure the final URL)",
                    status.as_u16()
                )
            } else {
                format!("webhook {host} answered HTTP {}", status.as_u16())
            };
            tracing::warn!(communication = %comm, %error, "communication not delivered; will retry");
            metrics::counter!("socfed_hub_comms_deliveries_total", "outcome" => "failed")
                .increment(1);
            CommEdit::Failed { comm, error }
        }
        Err(e) => {
            // `without_url` keeps a token in the URL out of the record and the log.
            let error = format!("webhook {host}: {}", e.without_url());
            tracing::warn!(communication = %comm, %error, "communication not delivered; will retry");
            metrics::counter!("socfed_hub_comms_deliveries_total", "outcome" => "failed")
                .increment(1);
            CommEdit::Failed { comm, error }
        }
    }
}
