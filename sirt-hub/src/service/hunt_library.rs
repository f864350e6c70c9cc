//! The hunt library's commands: a library hunt added, edited, enabled, disabled or run now by
//! an operator who keeps the library (the access matrix), and a due run started by the
//! scheduler (`crate::hunt_schedule`). The writer applies each with its audit entry.

use super::{Commands, wrong_answer};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::error::HubError;
use crate::ingest::apply::{Item, LibraryAction, LibraryChange, LibraryChanged, ResponseOutcome};
use crate::response::HuntRecord;
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

/// Who the audit names for a scheduled run.
pub const SCHEDULER: &str = "hunt scheduler";

impl Commands<'_> {
    /// An operator's change to the library: the library hunt after it (and the hunt a run
    /// started).
    pub async fn change_library(
        self,
        acting: &Acting,
        action: LibraryAction,
    ) -> Result<LibraryChanged, HubError> {
        acting.may(Api::KeepHuntLibrary)?;
        let actor = acting.actor();
        self.library(LibraryChange {
            action,
            actor: actor.name,
            actor_cert: actor.cert,
        })
        .await
    }

    /// A library hunt imported from a STIX 2.1 bundle or a MISP event: who imports is checked
    /// before the file is read; then it is added as `change_library` adds one.
    pub async fn import_library(
        self,
        acting: &Acting,
        data: &[u8],
        format: &str,
        choices: crate::hunt_library::import::Choices,
        enabled: bool,
    ) -> Result<(LibraryChanged, crate::hunt_library::import::Imported), HubError> {
        use crate::hunt_library::import;
        acting.may(Api::KeepHuntLibrary)?;
        let format = import::Format::parse(format).map_err(|e| HubError::invalid(e.0))?;
        let imported = import::read(data, format, choices).map_err(|e| HubError::invalid(e.0))?;
        let action = LibraryAction::Add {
            spec: imported.spec.clone(),
            enabled,
        };
        let changed = self.change_library(acting, action).await?;
        Ok((changed, imported))
    }

    /// The scheduler's run of library hunt `id`, if it is due when the writer applies it: the
    /// hunt started, or none.
    pub async fn run_due_library_hunt(
        self,
        id: Ulid,
        enrolled: &[SiteId],
    ) -> Result<Option<HuntRecord>, HubError> {
        let change = LibraryChange {
            action: LibraryAction::Run {
                id,
                scheduled: true,
                enrolled: enrolled.to_vec(),
            },
            actor: SCHEDULER.to_string(),
            actor_cert: String::new(),
        };
        Ok(self.library(change).await?.run)
    }

    async fn library(self, change: LibraryChange) -> Result<LibraryChanged, HubError> {
        match self
            .response(Item::Library(Box::new(change)), "change_library")
            .await?
        {
            ResponseOutcome::Library(changed) => Ok(*changed),
            other => Err(wrong_answer("change_library", &other)),
        }
    }
}
