//! What an OCSF finding is about: hosts, users and addresses (entities), and what can be
//! shared as a threat indicator.
//!
//! - `device`: `hostname` a host, `ip` an address of ours (an entity, never an indicator);
//! - `actor.user.name`: a user;
//! - `resources[]`, the affected assets: `hostname` a host and `ip` an address when given;
//!   a cloud resource has neither, so its `uid` (e.g. an ARN), else its `name`, stands for
//!   the host, which keeps the same check failing on two resources apart. An IAM user ARN
//!   (`arn:aws:iam::ACCOUNT:user/NAME`) is the user NAME and the account root
//!   (`arn:aws:iam::ACCOUNT:root`) the user `root` instead;
//! - `evidences[]` (OCSF 1.1+): `src_endpoint` and `dst_endpoint` `ip` (entity and
//!   indicator) and `hostname`/`domain` (domain indicators), `device` as above,
//!   `actor.user.name` and `user.name` users, `file.hashes[].value` and
//!   `process.file.hashes[].value` hashes, `url.url_string` a URL, `query.hostname` a
//!   domain, `email.from` an email address;
//! - `observables[]` by `type_id`: 1 Hostname → domain (IP literals skipped), 2 IP Address
//!   → indicator and entity, 4 User Name → user, 5 Email Address → email, 6 URL String →
//!   url, 8 Hash → md5/sha1/sha256 by length. An observable whose `name` is a `device.` or
//!   `resources` path is about our own asset: a host or address entity, not an indicator;
//! - `vulnerabilities[].cve.uid` → cve.

use super::super::fields::{self, Object};
use crate::soc::alert::Entities;
use serde_json::Value;
use socfed_proto::vocab::{Indicator, IndicatorKind};

pub(super) fn collect(obj: &Object) -> (Entities, Vec<Indicator>) {
    let mut found = Found::default();
    found.device(obj, "device");
    found
        .entities
        .users
        .extend(fields::text(obj, "actor.user.name").map(str::to_string));
    for resource in fields::objects(obj, "resources") {
        found.resource(resource);
    }
    for evidence in fields::objects(obj, "evidences") {
        found.evidence(evidence);
    }
    for observable in fields::objects(obj, "observables") {
        found.observable(observable);
    }
    for vulnerability in fields::objects(obj, "vulnerabilities") {
        if let Some(cve) = fields::text(vulnerability, "cve.uid") {
            found
                .indicators
                .extend(Indicator::new(IndicatorKind::Cve, cve).ok());
        }
    }
    (found.entities, found.indicators)
}

#[derive(Default)]
struct Found {
    entities: Entities,
    indicators: Vec<Indicator>,
}

impl Found {
    /// Our own device at `path`: a host and an address, never indicators.
    fn device(&mut self, obj: &Object, path: &str) {
        self.entities
            .hosts
            .extend(fields::text(obj, &format!("{path}.hostname")).map(str::to_string));
        self.entities
            .ips
            .extend(fields::text(obj, &format!("{path}.ip")).and_then(fields::ip));
    }

    /// Another party's address: an entity and, when it can name one, an indicator.
    fn remote_ip(&mut self, raw: &str) {
        if let Some(ip) = fields::ip(raw) {
            self.entities.ips.push(ip);
            self.indicators.extend(fields::ip_indicator(ip));
        }
    }

    fn domain(&mut self, raw: Option<&str>) {
        self.indicators
            .extend(raw.and_then(fields::domain_indicator));
    }

    fn resource(&mut self, resource: &Object) {
        let hostname = fields::text(resource, "hostname");
        let ip = fields::text(resource, "ip").and_then(fields::ip);
        self.entities.ips.extend(ip);
        if let Some(hostname) = hostname {
            self.entities.hosts.push(hostname.to_string());
            return;
        }
        if ip.is_some() {
            return;
        }
        let Some(asset) = fields::text(resource, "uid").or_else(|| fields::text(resource, "name"))
        else {
            return;
        };
        match iam_user(asset) {
            Some(user) => self.entities.users.push(user.to_string()),
            None => self.entities.hosts.push(asset.to_string()),
        }
    }

    fn evidence(&mut self, evidence: &Object) {
        for side in ["src_endpoint", "dst_endpoint"] {
            if let Some(ip) = fields::text(evidence, &format!("{side}.ip")) {
                self.remote_ip(ip);
            }
            for key in ["hostname", "domain"] {
                self.domain(fields::text(evidence, &format!("{side}.{key}")));
            }
        }
        self.device(evidence, "device");
        for key in ["actor.user.name", "user.name"] {
            self.entities
                .users
                .extend(fields::text(evidence, key).map(str::to_string));
        }
        for key in ["file.hashes.value", "process.file.hashes.value"] {
            for hash in fields::all_texts(evidence, key) {
                self.indicators.extend(fields::hash_indicator(&hash));
            }
        }
        if let Some(url) = fields::text(evidence, "url.url_string") {
            self.indicators
                .extend(Indicator::new(IndicatorKind::Url, url).ok());
        }
        self.domain(fields::text(evidence, "query.hostname"));
        if let Some(from) = fields::text(evidence, "email.from") {
            self.indicators
                .extend(Indicator::new(IndicatorKind::Email, from).ok());
        }
    }

    fn observable(&mut self, observable: &Object) {
        let Some(value) = fields::text(observable, "value") else {
            return;
        };
        let ours = fields::text(observable, "name")
            .is_some_and(|n| n.starts_with("device.") || n.starts_with("resources"));
        match observable.get("type_id").and_then(Value::as_i64) {
            Some(1) if ours => self.entities.hosts.push(value.to_string()),
            Some(1) => self.domain(Some(value)),
            Some(2) if ours => self.entities.ips.extend(fields::ip(value)),
            Some(2) => self.remote_ip(value),
            Some(4) => self.entities.users.push(value.to_string()),
            Some(5) => self
                .indicators
                .extend(Indicator::new(IndicatorKind::Email, value).ok()),
            Some(6) => self
                .indicators
                .extend(Indicator::new(IndicatorKind::Url, value).ok()),
            Some(8) => self.indicators.extend(fields::hash_indicator(value)),
            _ => {}
        }
    }
}

/// The user an AWS IAM ARN names: `…:user/NAME` (the last path segment) or `…:root`.
fn iam_user(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    // arn:PARTITION:iam::ACCOUNT:RESOURCE
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, _region, _account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "iam" {
        return None;
    }
    if resource == "root" {
        return Some("root");
    }
    let name = resource.strip_prefix("user/")?.rsplit('/').next()?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::iam_user;

    #[test]
    fn iam_arns_name_users() {
        assert_eq!(iam_user("arn:aws:iam::123456789012:root"), Some("root"));
        assert_eq!(
            iam_user("arn:aws:iam::123456789012:user/ops/alice"),
            Some("alice")
        );
        assert_eq!(iam_user("arn:aws-cn:iam::1:user/bob"), Some("bob"));
        assert_eq!(iam_user("arn:aws:iam::1:role/admin"), None);
        assert_eq!(iam_user("arn:aws:s3:::bucket"), None);
        assert_eq!(iam_user("arn:aws:iam::1:user/"), None);
        assert_eq!(iam_user("<resource_uid>"), None);
    }
}
