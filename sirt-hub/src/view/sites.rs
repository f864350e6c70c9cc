//! The sites as `sirt-hub sites` and the dashboard show them: every enrolled (or ever seen)
//! site with its stored counters and whether its stream is open now.

use crate::error::HubError;
use crate::live::LiveSites;
use crate::store::HubStore;
use crate::view::{convert, read};
use socfed_proto::pb;
use socfed_proto::vocab::SiteId;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Every enrolled (or ever seen) site with its stored counters and whether it is connected
/// now: what `sirt-hub sites` and the dashboard show.
pub async fn site_overview(
    store: &Arc<HubStore>,
    live: &LiveSites,
    enrolled: &[SiteId],
) -> Result<Vec<pb::SiteSummary>, HubError> {
    let stored = read(store, |s| {
        // Marks first, counters after: a unit writes a site's counters and its mark together,
        // so counters read after the mark are at least as new, and a listing never shows a
        // site acknowledged past what it shows stored (reading them the other way round did,
        // right after a burst).
        let mut marks = HashMap::new();
        for (site, record) in s.sites()? {
            if let Some(epoch) = record.epoch {
                marks.insert(site.clone(), (epoch, s.acked_through_for(&site, epoch)?));
            }
        }
        let mut out = Vec::new();
        for (site, record) in s.sites()? {
            let acked = match (record.epoch, marks.get(&site)) {
                (Some(epoch), Some((read_for, acked))) if epoch == *read_for => *acked,
                // A new epoch since the marks were read: its own mark, read now.
                (Some(epoch), _) => s.acked_through_for(&site, epoch)?,
                (None, _) => 0,
            };
            out.push((site, record, acked));
        }
        Ok(out)
    })
    .await?;
    let mut by_site: BTreeMap<SiteId, pb::SiteSummary> = enrolled
        .iter()
        .map(|site| {
            (
                site.clone(),
                convert::site_summary(site, &Default::default(), false),
            )
        })
        .collect();
    for (site, record, acked) in stored {
        let mut summary = convert::site_summary(&site, &record, false);
        summary.acked_through = acked;
        by_site.insert(site, summary);
    }
    for (site, summary) in &mut by_site {
        summary.connected = live.get(site).is_some();
    }
    Ok(by_site.into_values().collect())
}
