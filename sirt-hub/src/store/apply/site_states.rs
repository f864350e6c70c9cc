//! The queue of incident states the hub owes each site (`site_states`, `site_state_log`, see
//! `schema.rs`): what the hub says of a site's local incident (which hub incident, its phase,
//! its IR lead) goes back to that site whenever it changes.
//!
//! Only this module writes the two trees. A change queues the local incident under the site's
//! next sequence and drops its earlier entry, so the log holds one entry per local incident
//! and a site that reconnects gets each changed incident once, in the order of its last change.
//! The state sent is read when it is sent (`query_states.rs`), so it is always the latest.

use super::{Tx, TxError, codec};
use crate::store::schema;
use socfed_proto::vocab::SiteId;

impl Tx<'_> {
    /// Queues the state of `site`'s local incident `local` for sending to the site.
    pub(super) fn queue_state(&self, site: &SiteId, local: &str) -> Result<(), TxError> {
        // The same layout as `local_refs`: site ++ 0x00 ++ local incident id.
        let key = schema::local_ref_key(site, local);
        if let Some(raw) = self.site_states.get(&key)? {
            let earlier = codec(schema::u64_value(schema::SITE_STATES, &raw))?;
            self.site_state_log
                .remove(schema::state_log_key(site, earlier))?;
        }
        let seq = self.next_state_seq(site)?;
        self.site_state_log
            .insert(schema::state_log_key(site, seq), local.as_bytes())?;
        self.site_states.insert(key, &seq.to_be_bytes())?;
        let mut sites = self.new_states.borrow_mut();
        if !sites.contains(site) {
            sites.push(site.clone());
        }
        Ok(())
    }
}
