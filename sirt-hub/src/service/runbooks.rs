//! The hub's runbooks: added, edited and retired by those who keep them (security engineers,
//! the SOC manager, the CISO: `access::Api::KeepRunbooks`), through the writer with their
//! audit entry, whichever transport asked. Every operator reads them.

use super::{Commands, wrong_answer};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::error::HubError;
use crate::ingest::apply::{Item, ResponseOutcome, RunbookChange, RunbookEdit};
use socfed_proto::vocab::runbook::{Draft, Runbook};
use ulid::Ulid;

impl Commands<'_> {
    /// A new runbook, version 1.
    pub async fn add_runbook(self, acting: &Acting, draft: Draft) -> Result<Runbook, HubError> {
        let now = socfed_proto::now_millis();
        let id = Ulid::from_parts(u64::try_from(now).unwrap_or_default(), rand::random());
        self.runbook(acting, RunbookEdit::Add { id, draft }).await
    }

    /// The next version of runbook `id` with new content.
    pub async fn update_runbook(
        self,
        acting: &Acting,
        id: Ulid,
        draft: Draft,
    ) -> Result<Runbook, HubError> {
        self.runbook(acting, RunbookEdit::Update { id, draft })
            .await
    }

    /// Retires runbook `id` (its last version, retired: the sites retire it too).
    pub async fn retire_runbook(self, acting: &Acting, id: Ulid) -> Result<Runbook, HubError> {
        self.runbook(acting, RunbookEdit::Retire { id }).await
    }

    async fn runbook(self, acting: &Acting, edit: RunbookEdit) -> Result<Runbook, HubError> {
        acting.may(Api::KeepRunbooks)?;
        let change = RunbookChange {
            edit,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        match self
            .response(Item::Runbook(Box::new(change)), "runbook")
            .await?
        {
            ResponseOutcome::Runbook(runbook) => Ok(*runbook),
            other => Err(wrong_answer("runbook", &other)),
        }
    }
}
