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

#[cfg(test)]
mod tests {
    use super::*;
    use socfed_runtime::api_token::{Scope, mint};

    /// Uses gather per token; a flush is due once the oldest is a minute old, not before.
    #[test]
    fn uses_gather_per_token_until_the_oldest_is_a_minute_old() -> anyhow::Result<()> {
        let usage = Usage::default();
        let a = mint("a", &[Scope::Read], 3_600_000, "mona", "0a", 0)?.record;
        let b = mint("b", &[Scope::Read], 3_600_000, "mona", "0a", 0)?.record;
        assert!(!usage.note(&a, 1_000));
        assert!(!usage.note(&b, 30_000));
        assert!(!usage.note(&a, 60_999));
        assert!(usage.note(&b, 61_000));
        let uses = usage.0.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        let counted: Vec<(String, u64, i64, i64)> = uses
            .values()
            .map(|u| (u.name.clone(), u.count, u.first_ms, u.last_ms))
            .collect();
        let (first, second) = if a.id < b.id { ("a", "b") } else { ("b", "a") };
        let expect = |name: &str| match name {
            "a" => ("a".to_owned(), 2, 1_000, 60_999),
            _ => ("b".to_owned(), 2, 30_000, 61_000),
        };
        assert_eq!(counted, vec![expect(first), expect(second)]);
        Ok(())
    }
}
