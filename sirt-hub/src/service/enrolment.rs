//! Sites enrolled and removed: who may open an escalation stream. Changed by the roster's
//! keepers (admin, CISO: `access::Api::EnrolSites`) whichever transport asked, and seeded by
//! the hub itself from the config's `[[sites]]` at start (`crate::enrolment::seed`), each
//! change with its audit entry in the same unit. Removal also ends the site's open stream.

use super::{Commands, wrong_answer};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::error::HubError;
use crate::ingest::apply::{EnrolmentAction, EnrolmentChange, Item, ResponseOutcome};
use crate::live::LiveSites;
use crate::store::records::EnrolmentRecord;
use socfed_proto::vocab::SiteId;

/// Longest display name of a site (characters).
pub const MAX_SITE_NAME: usize = 120;

/// Why an operator enrolled a site (the audit's "after" and `sites list`).
pub const BY_OPERATOR: &str = "enrolled by an operator";
/// Why the hub enrolled a site at start.
pub const SEEDED: &str = "seeded from config";
/// The actor the audit records for the seed.
pub const HUB_ACTOR: &str = "hub";

/// A site id as an operator typed it, checked as the certificates name sites.
pub fn parse_site(raw: &str) -> Result<SiteId, HubError> {
    SiteId::parse(raw.trim()).map_err(|e| {
        HubError::invalid(format!(
            "{e}; give the site id its certificate carries (`sirt-hub pki issue --site ID` made it)"
        ))
    })
}

/// A display name: bounded, one line, no control characters (shown in terminals and pages).
pub fn check_name(name: &str) -> Result<String, HubError> {
    let name = name.trim();
    if name.chars().count() > MAX_SITE_NAME {
        return Err(HubError::invalid(format!(
            "the site's name is longer than {MAX_SITE_NAME} characters; give a shorter --name"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(HubError::invalid(
            "the site's name holds control characters; give it as one plain line",
        ));
    }
    Ok(name.to_string())
}

impl Commands<'_> {
    /// Enrols site `site` (again, if it was removed): its next stream is accepted.
    pub async fn enrol_site(
        self,
        acting: &Acting,
        site: &str,
        name: &str,
    ) -> Result<(SiteId, EnrolmentRecord), HubError> {
        acting.may(Api::EnrolSites)?;
        let (site, name) = (parse_site(site)?, check_name(name)?);
        let action = EnrolmentAction::Enrol {
            name,
            reason: BY_OPERATOR.into(),
            seed: false,
        };
        let record = self.enrolment(&site, action, acting).await?;
        Ok((site, record))
    }

    /// Removes site `site`: its next stream is refused, and its open stream on this hub ends.
    pub async fn remove_site(
        self,
        acting: &Acting,
        site: &str,
        live: &LiveSites,
    ) -> Result<(SiteId, EnrolmentRecord), HubError> {
        acting.may(Api::EnrolSites)?;
        let site = parse_site(site)?;
        let record = self
            .enrolment(&site, EnrolmentAction::Remove, acting)
            .await?;
        // After the removal is durable: a stream opened from now on is refused at its check.
        if live.end(&site) {
            tracing::info!(site = %site, operator = %acting.name, "removed site's stream ended");
        }
        Ok((site, record))
    }

    /// The config's `site` at start: added when the store never held it, left as it is
    /// otherwise (a removed site stays removed).
    pub async fn seed_site(self, site: &SiteId, name: &str) -> Result<EnrolmentRecord, HubError> {
        let change = EnrolmentChange {
            site: site.clone(),
            action: EnrolmentAction::Enrol {
                name: name.to_string(),
                reason: SEEDED.into(),
                seed: true,
            },
            actor: HUB_ACTOR.into(),
            actor_cert: String::new(),
        };
        self.change_enrolment(change).await
    }

    async fn enrolment(
        self,
        site: &SiteId,
        action: EnrolmentAction,
        acting: &Acting,
    ) -> Result<EnrolmentRecord, HubError> {
        self.change_enrolment(EnrolmentChange {
            site: site.clone(),
            action,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        })
        .await
    }

    async fn change_enrolment(self, change: EnrolmentChange) -> Result<EnrolmentRecord, HubError> {
        match self
            .response(Item::Enrolment(Box::new(change)), "enrolment")
            .await?
        {
            ResponseOutcome::Enrolment(record) => Ok(*record),
            other => Err(wrong_answer("enrolment", &other)),
        }
    }
}
