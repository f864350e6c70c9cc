//! The "unassigned" notification for groups intake could not assign: the mute
//! ([`UnassignedMute`], pure) is kept in the store, so the exact count of held groups survives
//! restarts, and the SLA tick sends what was held once the quiet period is over.

use super::SocService;
use crate::error::AgentError;
use crate::soc::notify::{NewUnassigned, NotificationKind, UnassignedMute};
use crate::store::StoreError;
use crate::store::unit::Unit;
use socfed_proto::UnixMillis;

impl SocService {
    fn write_drafts(
        &self,
        unit: &mut Unit,
        drafts: Vec<crate::soc::notify::Draft>,
    ) -> Result<(), StoreError> {
        for draft in drafts {
            self.notify(
                unit,
                NotificationKind::Unassigned,
                draft.message,
                draft.group,
            )?;
        }
        Ok(())
    }

    /// Notifies the unassigned groups of one intake batch, in its unit.
    pub(super) fn notify_unassigned(
        &self,
        unit: &mut Unit,
        groups: &[NewUnassigned],
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        if groups.is_empty() {
            return Ok(());
        }
        metrics::counter!("socfed_agent_unassigned_groups_total").increment(groups.len() as u64);
        let mut mute: UnassignedMute = unit.unassigned_mute()?;
        let drafts = mute.on_new(groups, now);
        unit.put_unassigned_mute(&mute)?;
        self.write_drafts(unit, drafts)
    }

    /// At the SLA tick: sends the held count once the quiet period is over.
    pub(super) fn flush_unassigned(&self) -> Result<(), AgentError> {
        let now = self.now();
        self.store.unit(|unit| {
            let mut mute: UnassignedMute = unit.unassigned_mute()?;
            if let Some(draft) = mute.flush(now) {
                unit.put_unassigned_mute(&mute)?;
                self.write_drafts(unit, vec![draft])?;
            }
            Ok::<_, AgentError>(())
        })
    }
}
