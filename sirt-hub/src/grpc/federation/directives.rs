//! The hub → site half of the stream: each site's directive outbox, sent after the welcome
//! and live as directives are issued (the site's reports on them are judged in [`super::wire`]).
//!
//! Everything the site has not reported a final state for is sent again on every connect;
//! the agent applies each directive id at most once and answers a resend with its current
//! state, so a lost update or a lost directive costs only a resend.

use super::Session;
use crate::error::HubError;
use crate::service::Commands;
use crate::view::response_convert;
use socfed_proto::pb::{self, hub_message};
use tonic::Status;

impl Session {
    /// Sends the site's open directives not yet sent on this stream. Ids minted by concurrent
    /// handlers do not commit in id order, so "not sent yet" is tracked by id, not by a cursor.
    pub(super) async fn send_directives(&mut self) -> Result<(), Status> {
        let store = self.service.store.clone();
        let site = self.site.clone();
        let pending = tokio::task::spawn_blocking(move || store.open_directives(&site))
            .await
            .map_err(|_| HubError::internal("directive read task failed"))?
            .map_err(|e| crate::grpc::storage_status(&e))?;
        // The read may include directives applied but not yet flushed (the writer applies the
        // next batch while the last one flushes). Everything read was applied before this
        // barrier, whose answer comes only after a flush that started after it: once it
        // arrives, nothing about to be sent can be lost to a hub crash.
        if pending
            .iter()
            .any(|d| d.needs_sending() && !self.sent_directives.contains(&d.id))
        {
            Commands::on(&self.service.ingest).barrier().await?;
        }
        // Forget what left the outbox, so the set stays as small as the outbox.
        self.sent_directives
            .retain(|id| pending.iter().any(|d| d.id == *id));
        for d in pending {
            if !d.needs_sending() || !self.sent_directives.insert(d.id) {
                continue;
            }
            let message = pb::HubMessage {
                body: Some(hub_message::Body::Directive(response_convert::directive(
                    &d,
                ))),
            };
            self.out
                .send(Ok(message))
                .await
                .map_err(|_| Status::cancelled("the site went away"))?;
            metrics::counter!("socfed_hub_directives_sent_total").increment(1);
            tracing::debug!(site = %self.site, directive = %d.id, kind = %d.kind, "directive sent");
        }
        Ok(())
    }
}
