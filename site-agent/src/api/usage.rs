//! Token uses on reads, counted in memory per token and audited as one entry per token once
//! a minute of them has gathered (or when the listener stops): a poller reading every few
//! seconds adds one audit write a minute, not one per request. Intake and triage by token
//! are audited by their own store units, whose actor names the token.

use crate::error::AgentError;
use crate::service::SocService;
use crate::service::tokens::TokenUses;
use socfed_proto::UnixMillis;
use socfed_runtime::api_token::TokenRecord;
use std::collections::BTreeMap;
use std::sync::Mutex;
use ulid::Ulid;

/// How long uses gather before they are audited.
pub const FLUSH_AFTER_MS: i64 = 60_000;

#[derive(Debug, Default)]
pub struct Usage(Mutex<BTreeMap<Ulid, TokenUses>>);

impl Usage {
    /// Counts one use at `now`; true when the oldest counted use is a minute old (flush).
    pub fn note(&self, token: &TokenRecord, now: UnixMillis) -> bool {
        let mut uses = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = uses.entry(token.id).or_insert_with(|| TokenUses {
            id: token.id,
            name: token.name.clone(),
            created_by: token.created_by.clone(),
            count: 0,
            first_ms: now,
            last_ms: now,
        });
        entry.count += 1;
        entry.last_ms = now;
        uses.values()
            .map(|u| u.first_ms)
            .min()
            .is_some_and(|first| now - first >= FLUSH_AFTER_MS)
    }

    /// Audits every use counted so far in one store unit. On failure the uses are counted
    /// again, so the next flush carries them.
    pub async fn flush(&self, soc: &std::sync::Arc<SocService>) -> Result<(), AgentError> {
        let taken: Vec<TokenUses> = {
            let mut uses = self.0.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *uses).into_values().collect()
        };
        if taken.is_empty() {
            return Ok(());
        }
        let again = taken.clone();
        let result = crate::service::blocking(soc, move |soc| soc.record_token_uses(&taken)).await;
        if result.is_err() {
            let mut uses = self.0.lock().unwrap_or_else(|p| p.into_inner());
            for used in again {
                let entry = uses.entry(used.id).or_insert_with(|| TokenUses {
                    count: 0,
                    ..used.clone()
                });
                entry.count += used.count;
                entry.first_ms = entry.first_ms.min(used.first_ms);
            }
        }
        result
    }
}
