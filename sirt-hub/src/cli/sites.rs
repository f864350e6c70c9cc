//! `sirt-hub sites list|enrol|remove`: the enrolled sites, which may open an escalation stream
//! (changes: admin or CISO; they take effect with the site's next stream, no restart).
//! `sirt-hub sites` alone is the federation status (`query::sites`).

use super::HubTarget;
use super::render::{print_json, table};
use clap::Subcommand;
use serde_json::json;
use socfed_proto::pb::{self, site_enrolment_client::SiteEnrolmentClient};
use socfed_runtime::cli::{OutputFormat, format_millis};

#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// The enrolled sites, with who enrolled them and when.
    List {
        /// Also the sites removed since their enrolment.
        #[arg(long)]
        removed: bool,
    },
    /// Enrol a site: its next escalation stream is accepted (admin or CISO).
    Enrol {
        /// The site id its certificate carries.
        id: String,
        /// A display name.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Remove a site: its open stream ends and its next one is refused (admin or CISO).
    Remove {
        /// The site id.
        id: String,
    },
}

pub async fn run(command: SitesCommand, target: &HubTarget) -> anyhow::Result<()> {
    let mut client = SiteEnrolmentClient::new(target.channel()?);
    let sites = match command {
        SitesCommand::List { removed } => {
            client
                .list_enrolled_sites(pb::ListEnrolledSitesRequest {
                    include_removed: removed,
                })
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner()
                .sites
        }
        SitesCommand::Enrol { id, name } => vec![
            client
                .enrol_site(pb::EnrolSiteRequest { site_id: id, name })
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner(),
        ],
        SitesCommand::Remove { id } => vec![
            client
                .remove_site(pb::RemoveSiteRequest { site_id: id })
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner(),
        ],
    };
    match target.format() {
        OutputFormat::Json => print_json(&sites.iter().map(site_json).collect::<Vec<_>>()),
        OutputFormat::Table => {
            let mut t = table(&["SITE", "NAME", "ENROLLED BY", "SINCE", "WHY", "REMOVED"]);
            for s in &sites {
                t.add_row(vec![
                    s.site_id.clone(),
                    s.name.clone(),
                    s.enrolled_by.clone(),
                    format_millis(s.enrolled_at_ms),
                    s.reason.clone(),
                    removed(s),
                ]);
            }
            socfed_runtime::outln!("{t}");
            Ok(())
        }
    }
}

fn removed(s: &pb::EnrolledSite) -> String {
    match s.removed {
        true => format!("by {} at {}", s.removed_by, format_millis(s.removed_at_ms)),
        false => "-".into(),
    }
}

/// One enrolled site as `-o json` and `/api/v1/sites/enrolled` show it.
pub(crate) fn site_json(s: &pb::EnrolledSite) -> serde_json::Value {
    json!({
        "site": s.site_id,
        "name": s.name,
        "enrolled_by": s.enrolled_by,
        "enrolled_at": format_millis(s.enrolled_at_ms),
        "reason": s.reason,
        "removed": s.removed.then(|| json!({
            "by": s.removed_by, "at": format_millis(s.removed_at_ms),
        })),
    })
}
