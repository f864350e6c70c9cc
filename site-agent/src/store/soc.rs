//! The local SOC's records: alert groups with their secondary indexes, local incidents, the
//! roster and settings, notifications, and the audit chain. Unit methods write; `AgentStore`
//! methods read.

use super::schema::{self, AuditHead, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::audit::{self, AuditDraft, AuditEntry};
use crate::soc::group::AlertGroup;
use crate::soc::incident::LocalIncident;
use crate::soc::notify::Notification;
use crate::soc::roster::Analyst;
use crate::soc::triage::{Status, StatusKind};
use crate::soc::{Tier, sla};
use socfed_proto::UnixMillis;
use ulid::Ulid;

/// Status byte in `idx_queue` keys.
/// A status's code in `idx_queue` keys (see `schema.rs`).
fn kind_code(kind: StatusKind) -> u8 {
    match kind {
        StatusKind::New => 0,
        StatusKind::Acknowledged => 1,
        StatusKind::Closed => 2,
        StatusKind::Promoted => 3,
    }
}

fn status_code(status: &Status) -> u8 {
    kind_code(status.kind())
}

fn queue_key(group: &AlertGroup) -> Vec<u8> {
    let mut key = vec![status_code(&group.state.status), group.state.tier.number()];
    key.extend_from_slice(&group.id.to_bytes());
    key
}

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
        kinds.iter().map(|k| kind_code(*k)).collect()
    }
}

/// The outcome of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    pub problem: Option<String>,
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
        let new_queue = queue_key(group);
        let new_assignee = group
            .state
            .assignee
            .as_ref()
            .map(|a| schema::named_key(a, group.id));
        let new_due = sla::deadline(sla, &group.state, group.severity)
            .map(|d| schema::time_key(d.due_ms, group.id));
        let (old_queue, old_assignee, old_due) = match old {
            Some(old) => (
                Some(queue_key(old)),
                old.state
                    .assignee
                    .as_ref()
                    .map(|a| schema::named_key(a, old.id)),
                sla::deadline(sla, &old.state, old.severity)
                    .map(|d| schema::time_key(d.due_ms, old.id)),
            ),
            None => (None, None, None),
        };
        for (tree, before, after) in [
            (TreeId::IdxQueue, old_queue, Some(new_queue)),
            (TreeId::IdxAssignee, old_assignee, new_assignee),
            (TreeId::SlaDue, old_due, new_due),
        ] {
            if before == after {
                continue;
            }
            if let Some(key) = before {
                self.remove(tree, key);
            }
            if let Some(key) = after {
                self.put_raw(tree, key, Vec::new());
            }
        }
        // Indicators only accumulate: index the ones this write adds.
        for indicator in &group.indicators {
            if old.is_none_or(|o| o.indicators.binary_search(indicator).is_err()) {
                self.put_raw(
                    TreeId::IdxIndicator,
                    schema::named_key(&indicator.to_string(), group.id),
                    Vec::new(),
                );
            }
        }
        self.put(TreeId::Groups, group.id.to_bytes().to_vec(), group)?;
        Ok(())
    }

    pub fn incident(&self, id: &str) -> Result<Option<LocalIncident>, StoreError> {
        Ok(self.get(TreeId::Incidents, id.as_bytes())?)
    }

    pub fn put_incident(&mut self, incident: &LocalIncident) -> Result<(), StoreError> {
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

    /// The analyst last given a new group at `tier` (round-robin cursor).
    pub fn round_robin_cursor(&self, tier: Tier) -> Result<Option<String>, StoreError> {
        Ok(self.get(TreeId::Settings, format!("rr/{}", tier.number()).as_bytes())?)
    }

    pub fn set_round_robin_cursor(&mut self, tier: Tier, name: &str) -> Result<(), StoreError> {
        Ok(self.put(
            TreeId::Settings,
            format!("rr/{}", tier.number()).into_bytes(),
            &name.to_string(),
        )?)
    }

    pub fn put_notification(&mut self, notification: &Notification) -> Result<(), StoreError> {
        Ok(self.put(
            TreeId::Notifications,
            notification.id.to_bytes().to_vec(),
            notification,
        )?)
    }

    /// Adds `n` to an intake counter (`accepted`, `aggregated`, `duplicates`, `rejected`,
    /// `skipped`).
    pub fn count_intake(&mut self, what: &str, n: u64) -> Result<(), StoreError> {
        let key = format!("intake/{what}");
        let value = self.get_u64(TreeId::Meta, key.as_bytes())? + n;
        self.put_u64(TreeId::Meta, key.as_bytes(), value);
        Ok(())
    }

    /// Appends to the audit chain.
    pub fn audit(&mut self, draft: AuditDraft) -> Result<(), StoreError> {
        let head: Option<AuditHead> = self.get(TreeId::Meta, schema::AUDIT_HEAD.as_bytes())?;
        let (seq, prev) = head.map_or((1, audit::GENESIS), |h| (h.seq + 1, h.hash));
        let entry = audit::seal(draft, seq, prev, self.audit_key);
        self.put(TreeId::Audit, seq.to_be_bytes().to_vec(), &entry)?;
        self.put(
            TreeId::Meta,
            schema::AUDIT_HEAD.as_bytes().to_vec(),
            &AuditHead {
                seq,
                hash: entry.hash,
            },
        )?;
        Ok(())
    }
}

impl AgentStore {
    pub fn group(&self, id: Ulid) -> Result<Option<AlertGroup>, StoreError> {
        match self.tree(TreeId::Groups).get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Groups.name(), &raw)?)),
            None => Ok(None),
        }
    }

    /// Groups by queue (status and tier) or assignee, newest first.
    pub fn list_groups(&self, filter: &GroupFilter) -> Result<Vec<AlertGroup>, StoreError> {
        let mut ids: Vec<Ulid> = Vec::new();
        if let Some(assignee) = &filter.assignee {
            let mut prefix = assignee.as_bytes().to_vec();
            prefix.push(0);
            for key in self.tree(TreeId::IdxAssignee).scan_prefix(&prefix).keys() {
                ids.push(schema::trailing_ulid(TreeId::IdxAssignee.name(), &key?)?);
            }
        } else {
            let statuses = if filter.statuses.is_empty() {
                vec![0, 1]
            } else {
                filter.statuses.clone()
            };
            for status in statuses {
                let tiers: Vec<u8> = match filter.tier {
                    Some(t) => vec![t.number()],
                    None => Tier::ALL.iter().map(|t| t.number()).collect(),
                };
                for tier in tiers {
                    // Newest first within each queue; bounded by `limit` per queue.
                    for key in self
                        .tree(TreeId::IdxQueue)
                        .scan_prefix([status, tier])
                        .keys()
                        .rev()
                        .take(filter.limit)
                    {
                        ids.push(schema::trailing_ulid(TreeId::IdxQueue.name(), &key?)?);
                    }
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
                    || filter.statuses.contains(&status_code(&group.state.status));
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

    /// Groups whose SLA deadline is at or before `now`, earliest first.
    pub fn groups_due(
        &self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<Vec<(i64, Ulid)>, StoreError> {
        let end = schema::time_key(now, Ulid::from_bytes([0xff; 16]));
        let mut out = Vec::new();
        for key in self.tree(TreeId::SlaDue).range(..=end).keys().take(limit) {
            let key = key?;
            let due = key
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_be_bytes);
            out.push((
                i64::try_from(due).unwrap_or(i64::MAX),
                schema::trailing_ulid(TreeId::SlaDue.name(), &key)?,
            ));
        }
        Ok(out)
    }

    /// Rebuilds the SLA agenda from the groups when the SLA policy changed since the last
    /// start (deadlines depend on it), so no key written under the old policy lingers.
    pub fn rebuild_sla_agenda_if_changed(
        &self,
        policy: &sla::SlaPolicy,
    ) -> Result<bool, StoreError> {
        let fingerprint =
            blake3::hash(serde_json::to_string(policy).unwrap_or_default().as_bytes())
                .as_bytes()
                .to_vec();
        let meta = self.tree(TreeId::Meta);
        if meta
            .get("sla_policy")?
            .is_some_and(|stored| stored.as_ref() == fingerprint.as_slice())
        {
            return Ok(false);
        }
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.refuse_if_failed()?;
        self.rebuild_sla_agenda_locked(policy, &fingerprint)
            .map_err(|e| self.fail_on_io(e))?;
        Ok(true)
    }

    fn rebuild_sla_agenda_locked(
        &self,
        policy: &sla::SlaPolicy,
        fingerprint: &[u8],
    ) -> Result<(), StoreError> {
        let meta = self.tree(TreeId::Meta);
        let agenda = self.tree(TreeId::SlaDue);
        agenda.clear()?;
        let mut batch = sled::Batch::default();
        for value in self.tree(TreeId::Groups).iter().values() {
            let group: AlertGroup = schema::decode(TreeId::Groups.name(), &value?)?;
            if let Some(due) = sla::deadline(policy, &group.state, group.severity) {
                batch.insert(schema::time_key(due.due_ms, group.id), Vec::new());
            }
        }
        agenda.apply_batch(batch)?;
        meta.insert("sla_policy", fingerprint)?;
        self.sync_locked()
    }

    /// Groups that saw `indicator` (`kind:value`), for hunts.
    pub fn groups_with_indicator(&self, indicator: &str) -> Result<Vec<Ulid>, StoreError> {
        let mut prefix = indicator.as_bytes().to_vec();
        prefix.push(0);
        self.tree(TreeId::IdxIndicator)
            .scan_prefix(prefix)
            .keys()
            .map(|k| Ok(schema::trailing_ulid(TreeId::IdxIndicator.name(), &k?)?))
            .collect()
    }

    pub fn incident(&self, id: &str) -> Result<Option<LocalIncident>, StoreError> {
        match self.tree(TreeId::Incidents).get(id.as_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Incidents.name(), &raw)?)),
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
            .map(|v| Ok(schema::decode(TreeId::Incidents.name(), &v?)?))
            .collect()
    }

    pub fn roster(&self) -> Result<Vec<Analyst>, StoreError> {
        self.tree(TreeId::Roster)
            .iter()
            .values()
            .map(|v| Ok(schema::decode(TreeId::Roster.name(), &v?)?))
            .collect()
    }

    pub fn analyst(&self, name: &str) -> Result<Option<Analyst>, StoreError> {
        match self.tree(TreeId::Roster).get(name.as_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Roster.name(), &raw)?)),
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
            .map(|v| Ok(schema::decode(TreeId::Notifications.name(), &v?)?))
            .collect()
    }

    /// Walks the whole audit chain against the recorded head, one entry at a time (bounded
    /// memory whatever the chain's length).
    pub fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        /// Why the lazy walk stopped early.
        enum Walk {
            Store(StoreError),
            Unreadable(String),
        }
        let head: Option<AuditHead> = match self.tree(TreeId::Meta).get(schema::AUDIT_HEAD)? {
            Some(raw) => Some(schema::decode(schema::META, &raw)?),
            None => None,
        };
        let keyed_from = match self.tree(TreeId::Meta).get(schema::AUDIT_KEYED_FROM)? {
            Some(raw) => Some(schema::decode(schema::META, &raw)?),
            None => None,
        };
        let keying = match audit::Keying::new(self.audit_key.clone(), keyed_from) {
            Ok(keying) => keying,
            Err(tamper) => {
                return Ok(AuditReport {
                    entries: self.tree(TreeId::Audit).len() as u64,
                    problem: Some(tamper.to_string()),
                });
            }
        };
        let mut walk = socfed_runtime::audit_walk::LazyEntries::new(
            self.tree(TreeId::Audit)
                .iter()
                .values()
                .map(|value| match value {
                    Err(e) => Err(Walk::Store(e.into())),
                    Ok(raw) => schema::decode::<AuditEntry>(TreeId::Audit.name(), &raw)
                        .map_err(|e| Walk::Unreadable(format!("an entry cannot be read: {e}"))),
                }),
        );
        let verdict = audit::verify(&mut walk, head.map(|h| (h.seq, h.hash)), &keying);
        match (walk.failure(), verdict) {
            (Some(Walk::Store(e)), _) => Err(e),
            (Some(Walk::Unreadable(problem)), _) => Ok(AuditReport {
                entries: walk.walked(),
                problem: Some(problem),
            }),
            (None, Ok(n)) => Ok(AuditReport {
                entries: n,
                problem: None,
            }),
            // Reported with the chain's length, as before the walk was lazy.
            (None, Err(tamper)) => Ok(AuditReport {
                entries: walk.walked() + walk.by_ref().count() as u64,
                problem: Some(tamper.to_string()),
            }),
        }
    }

    /// Intake counters since the store was created.
    pub fn intake_counts(&self) -> Result<[u64; 5], StoreError> {
        let mut out = [0; 5];
        for (slot, what) in out.iter_mut().zip([
            "accepted",
            "aggregated",
            "duplicates",
            "rejected",
            "skipped",
        ]) {
            if let Some(raw) = self.tree(TreeId::Meta).get(format!("intake/{what}"))? {
                *slot = schema::u64_of(schema::META, &raw)?;
            }
        }
        Ok(out)
    }

    /// Test and tooling access to raw trees (e.g. to simulate tampering in tests).
    #[doc(hidden)]
    pub fn raw_tree(&self, name: &str) -> Option<&sled::Tree> {
        TreeId::ALL
            .iter()
            .find(|t| t.name() == name)
            .map(|t| self.tree(*t))
    }
}
