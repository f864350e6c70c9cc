//! The local SOC's records: alert groups with their secondary indexes and the SLA agenda,
//! local incidents, the roster, notifications and the intake counters. Unit methods write;
//! `AgentStore` methods read.

use super::agenda::{self, Change};
use super::schema::{self, TreeId, TreeSet};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::group::AlertGroup;
use crate::soc::incident::LocalIncident;
use crate::soc::notify::Notification;
use crate::soc::roster::Analyst;
use crate::soc::triage::{Status, StatusKind};
use crate::soc::{Tier, sla};
use socfed_proto::UnixMillis;
use std::collections::BTreeMap;
use ulid::Ulid;

/// Which groups `list_groups` returns.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// Status codes to include (see `idx_queue`); empty = open (new and acknowledged).
    pub statuses: Vec<u8>,
    pub tier: Option<Tier>,
    pub assignee: Option<String>,
    pub limit: usize,
}

impl GroupFilter {
    /// The codes of `kinds`, for [`GroupFilter::statuses`].
    pub fn status_codes(kinds: &[StatusKind]) -> Vec<u8> {
        kinds.iter().map(|k| schema::queue_kind(*k)).collect()
    }
}

impl Unit<'_> {
    pub fn group(&self, id: Ulid) -> Result<Option<AlertGroup>, StoreError> {
        Ok(self.get(TreeId::Groups, &id.to_bytes())?)
    }

    /// Writes `group`, keeping every index in step with what changed since `old`. Index
    /// keys that did not change are not rewritten: a repeat folding into a group usually
    /// changes only the record itself.
    pub fn put_group(
        &mut self,
        old: Option<&AlertGroup>,
        group: &AlertGroup,
        sla: &sla::SlaPolicy,
    ) -> Result<(), StoreError> {
        self.put_groups(&[(old, group)], sla)
    }

    /// [`Self::put_group`] for many groups at once: the indicator index gets one packed
    /// entry per indicator and [`schema::PACK_IDS`] groups, not one per group.
    pub fn put_groups(
        &mut self,
        groups: &[(Option<&AlertGroup>, &AlertGroup)],
        sla: &sla::SlaPolicy,
    ) -> Result<(), StoreError> {
        let mut by_indicator: BTreeMap<String, Vec<Ulid>> = BTreeMap::new();
        for (old, group) in groups {
            self.put_group_and_keys(*old, group, sla)?;
            // Indicators only accumulate: index the ones this write adds.
            for indicator in &group.indicators {
                if old.is_none_or(|o| o.indicators.binary_search(indicator).is_err()) {
                    by_indicator
                        .entry(indicator.to_string())
                        .or_default()
                        .push(group.id);
                }
            }
        }
        for (indicator, ids) in by_indicator {
            for pack in ids.chunks(schema::PACK_IDS) {
                let Some((first, rest)) = pack.split_first() else {
                    continue;
                };
                let value: Vec<u8> = rest.iter().flat_map(|id| id.to_bytes()).collect();
                self.put_raw(
                    TreeId::IdxIndicator,
                    schema::named_key(&indicator, *first),
                    value,
                );
            }
        }
        Ok(())
    }

    /// The record, its assignee index entry and its queue and agenda changes.
    fn put_group_and_keys(
        &mut self,
        old: Option<&AlertGroup>,
        group: &AlertGroup,
        sla: &sla::SlaPolicy,
    ) -> Result<(), StoreError> {
        let new_assignee = group
            .state
            .assignee
            .as_ref()
            .map(|a| schema::named_key(a, group.id));
        let old_assignee = old.and_then(|old| {
            old.state
                .assignee
                .as_ref()
                .map(|a| schema::named_key(a, old.id))
        });
        if old_assignee != new_assignee {
            if let Some(key) = old_assignee {
                self.remove(TreeId::IdxAssignee, key);
            }
            if let Some(key) = new_assignee {
                self.put_raw(TreeId::IdxAssignee, key, Vec::new());
            }
        }
        let new_queue = agenda::queue_key(group);
        let new_due = agenda::group_due(sla, group);
        let (old_queue, old_due) = match old {
            Some(old) => (Some(agenda::queue_key(old)), agenda::group_due(sla, old)),
            None => (None, None),
        };
        if old_queue != Some(new_queue) {
            if let Some(key) = old_queue {
                self.agenda_changes.push(Change::RemoveQueue(key));
            }
            self.agenda_changes.push(Change::AddQueue(new_queue));
        }
        if old_due != new_due {
            if let Some(key) = old_due {
                self.agenda_changes.push(Change::RemoveDue(key));
            }
            if let Some(key) = new_due {
                self.agenda_changes.push(Change::AddDue(key));
            }
        }
        self.index_search(old, group);
        self.put(TreeId::Groups, group.id.to_bytes().to_vec(), group)?;
        Ok(())
    }

    pub fn incident(&self, id: &str) -> Result<Option<LocalIncident>, StoreError> {
        Ok(self.get(TreeId::Incidents, id.as_bytes())?)
    }

    pub fn put_incident(&mut self, incident: &LocalIncident) -> Result<(), StoreError> {
        self.index_revision_pending(incident)?;
        Ok(self.put(TreeId::Incidents, incident.id.as_bytes().to_vec(), incident)?)
    }

    pub fn analyst(&self, name: &str) -> Result<Option<Analyst>, StoreError> {
        Ok(self.get(TreeId::Roster, name.as_bytes())?)
    }

    pub fn put_analyst(&mut self, analyst: &Analyst) -> Result<(), StoreError> {
        Ok(self.put(TreeId::Roster, analyst.name.as_bytes().to_vec(), analyst)?)
    }

    pub fn remove_analyst(&mut self, name: &str) {
        self.remove(TreeId::Roster, name.as_bytes().to_vec());
    }

    /// The groups assigned to `analyst`, as committed before this unit (its own writes are
    /// not seen).
    pub fn groups_assigned_to(&self, analyst: &str) -> Result<Vec<Ulid>, StoreError> {
        let tree = TreeId::IdxAssignee;
        self.committed_keys(tree, &schema::name_prefix(analyst), usize::MAX)?
            .iter()
            .map(|key| Ok(schema::trailing_ulid(tree, key)?))
            .collect()
    }

    /// Takes group `id`'s deadline `due_ms` off the SLA agenda.
    pub fn remove_sla_due(&mut self, due_ms: UnixMillis, id: Ulid) {
        self.agenda_changes
            .push(Change::RemoveDue(agenda::due_key(due_ms, id)));
    }

    /// Puts group `id`'s deadline `due_ms` on the SLA agenda.
    pub fn put_sla_due(&mut self, due_ms: UnixMillis, id: Ulid) {
        self.agenda_changes
            .push(Change::AddDue(agenda::due_key(due_ms, id)));
    }

    /// Stores `notification` under an id above every stored one: the webhook sinks' cursors
    /// follow the tree in id order, so a notification made in the same millisecond with a
    /// smaller random part, or after the clock stepped back, must not land behind a cursor.
    /// Writers are serialised, so the id stays the highest until this unit commits.
    pub fn put_notification(&mut self, notification: &Notification) -> Result<(), StoreError> {
        let mut notification = notification.clone();
        while let Some((key, _)) =
            self.seek(TreeId::Notifications, b"", &notification.id.to_bytes())?
        {
            let above = <[u8; 16]>::try_from(key.as_slice())
                .map(u128::from_be_bytes)
                .unwrap_or(notification.id.0);
            notification.id = Ulid(above.max(notification.id.0).saturating_add(1));
        }
        Ok(self.put(
            TreeId::Notifications,
            notification.id.to_bytes().to_vec(),
            &notification,
        )?)
    }

    /// Adds `n` to an intake counter (`accepted`, `aggregated`, `duplicates`, `rejected`,
    /// `skipped`).
    pub fn count_intake(&mut self, what: &str, n: u64) -> Result<(), StoreError> {
        let key = schema::intake_key(what);
        let value = self.get_u64(TreeId::Meta, key.as_bytes())? + n;
        self.put_u64(TreeId::Meta, key.as_bytes(), value);
        Ok(())
    }
}

impl AgentStore {
    pub fn group(&self, id: Ulid) -> Result<Option<AlertGroup>, StoreError> {
        match self.tree(TreeId::Groups).get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Groups, &raw)?)),
            None => Ok(None),
        }
    }

    /// Groups by queue (status and tier) or assignee, newest first.
    pub fn list_groups(&self, filter: &GroupFilter) -> Result<Vec<AlertGroup>, StoreError> {
        let mut ids: Vec<Ulid> = Vec::new();
        if let Some(assignee) = &filter.assignee {
            let prefix = schema::name_prefix(assignee);
            for key in self.tree(TreeId::IdxAssignee).scan_prefix(&prefix).keys() {
                ids.push(schema::trailing_ulid(TreeId::IdxAssignee, &key?)?);
            }
        } else {
            let statuses = if filter.statuses.is_empty() {
                vec![schema::QUEUE_NEW, schema::QUEUE_ACKNOWLEDGED]
            } else {
                filter.statuses.clone()
            };
            let agenda = self.agenda_read();
            for status in statuses {
                let tiers: Vec<u8> = match filter.tier {
                    Some(t) => vec![t.number()],
                    None => Tier::ALL.iter().map(|t| t.number()).collect(),
                };
                for tier in tiers {
                    // Newest first within each queue; bounded by `limit` per queue.
                    ids.extend(agenda.newest(status, tier, filter.limit));
                }
            }
        }
        ids.sort_by(|a, b| b.cmp(a));
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            if let Some(group) = self.group(id)? {
                let status_ok = filter.statuses.is_empty()
                    && matches!(group.state.status, Status::New | Status::Acknowledged)
                    || filter
                        .statuses
                        .contains(&schema::queue_status(&group.state.status));
                if status_ok && filter.tier.is_none_or(|t| group.state.tier == t) {
                    out.push(group);
                }
            }
            if out.len() >= filter.limit {
                break;
            }
        }
        Ok(out)
    }

    /// Groups that saw `indicator` (`kind:value`), for hunts, oldest first.
    pub fn groups_with_indicator(&self, indicator: &str) -> Result<Vec<Ulid>, StoreError> {
        let tree = TreeId::IdxIndicator;
        let mut ids = Vec::new();
        for entry in self.tree(tree).scan_prefix(schema::name_prefix(indicator)) {
            let (key, value) = entry?;
            ids.push(schema::trailing_ulid(tree, &key)?);
            ids.extend(schema::packed_ulids(tree, &value)?);
        }
        // Packs of one commit interleave with other commits' packs by their first id.
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    pub fn incident(&self, id: &str) -> Result<Option<LocalIncident>, StoreError> {
        match self.tree(TreeId::Incidents).get(id.as_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Incidents, &raw)?)),
            None => Ok(None),
        }
    }

    /// Newest first (ids embed a ULID).
    pub fn incidents(&self, limit: usize) -> Result<Vec<LocalIncident>, StoreError> {
        self.tree(TreeId::Incidents)
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|v| Ok(schema::decode(TreeId::Incidents, &v?)?))
            .collect()
    }

    pub fn roster(&self) -> Result<Vec<Analyst>, StoreError> {
        self.tree(TreeId::Roster)
            .iter()
            .values()
            .map(|v| Ok(schema::decode(TreeId::Roster, &v?)?))
            .collect()
    }

    pub fn analyst(&self, name: &str) -> Result<Option<Analyst>, StoreError> {
        match self.tree(TreeId::Roster).get(name.as_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Roster, &raw)?)),
            None => Ok(None),
        }
    }

    /// Newest first.
    pub fn notifications(&self, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.tree(TreeId::Notifications)
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|v| Ok(schema::decode(TreeId::Notifications, &v?)?))
            .collect()
    }

    /// Notifications with ids above `after` (all when `None`), oldest first, at most `limit`
    /// (the webhook source, `webhooks.rs`).
    pub fn notifications_after(
        &self,
        after: Option<Ulid>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        let tree = self.tree(TreeId::Notifications);
        let range = match after {
            Some(id) => tree.range((
                std::ops::Bound::Excluded(id.to_bytes().to_vec()),
                std::ops::Bound::Unbounded,
            )),
            None => tree.range::<Vec<u8>, _>(..),
        };
        range
            .values()
            .take(limit)
            .map(|v| Ok(schema::decode(TreeId::Notifications, &v?)?))
            .collect()
    }

    /// The newest notification's id.
    pub fn newest_notification(&self) -> Result<Option<Ulid>, StoreError> {
        Ok(self
            .tree(TreeId::Notifications)
            .last()?
            .and_then(|(key, _)| <[u8; 16]>::try_from(key.as_ref()).ok())
            .map(Ulid::from_bytes))
    }

    /// Intake counters since the store was created.
    pub fn intake_counts(&self) -> Result<[u64; 5], StoreError> {
        let mut out = [0; 5];
        for (slot, what) in out.iter_mut().zip(schema::INTAKE_COUNTERS) {
            if let Some(raw) = self.tree(TreeId::Meta).get(schema::intake_key(what))? {
                *slot = schema::u64_of(TreeId::Meta, &raw)?;
            }
        }
        Ok(out)
    }

    /// Test and tooling access to raw trees (e.g. to simulate tampering in tests).
    #[doc(hidden)]
    pub fn raw_tree(&self, name: &str) -> Option<&sled::Tree> {
        TreeId::by_name(name).map(|t| self.tree(t))
    }
}
