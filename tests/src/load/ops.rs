//! Store operations per tree, read from the services' admin `/metrics`: the agent's
//! `socfed_agent_store_ops_total{tree,op}` and the hub's `socfed_hub_store_ops_total{tree,op}`
//! (absent from a hub build that does not export it: then nothing is reported for it). A
//! scenario scrapes before and after a phase and divides the difference by the escalations of
//! the phase, to compare with the cost model (so many lookups and rewrites per escalation).

use std::collections::BTreeMap;
use std::net::SocketAddr;

pub const AGENT_METRIC: &str = "socfed_agent_store_ops_total";
pub const HUB_METRIC: &str = "socfed_hub_store_ops_total";

/// The operation kinds, in the order they are shown.
pub const OPS: [&str; 4] = ["get", "insert", "remove", "scan"];

/// Counts by tree, then operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreOps(pub BTreeMap<String, BTreeMap<String, f64>>);

impl StoreOps {
    /// The series of `metric` in a Prometheus text exposition.
    pub fn parse(body: &str, metric: &str) -> Self {
        let mut out = Self::default();
        for line in body.lines() {
            let Some(rest) = line.strip_prefix(metric) else {
                continue;
            };
            let Some((labels, value)) = rest.strip_prefix('{').and_then(|r| r.split_once("} "))
            else {
                continue;
            };
            let label = |name: &str| {
                labels.split(',').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    (key == name).then(|| value.trim_matches('"').to_string())
                })
            };
            if let (Some(tree), Some(op), Ok(value)) =
                (label("tree"), label("op"), value.trim().parse::<f64>())
            {
                *out.0.entry(tree).or_default().entry(op).or_default() += value;
            }
        }
        out
    }

    /// Scrapes `admin`'s `/metrics`; empty when it does not answer or exports no such series.
    pub async fn scrape(admin: SocketAddr, metric: &'static str) -> Self {
        tokio::task::spawn_blocking(move || {
            crate::http_get(admin, "/metrics")
                .map(|(_, body)| Self::parse(&body, metric))
                .unwrap_or_default()
        })
        .await
        .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `other` in (summing several agents).
    pub fn add(&mut self, other: &Self) {
        for (tree, ops) in &other.0 {
            let mine = self.0.entry(tree.clone()).or_default();
            for (op, n) in ops {
                *mine.entry(op.clone()).or_default() += n;
            }
        }
    }

    /// What happened between `before` and `self`, divided by `per` (escalations).
    pub fn since(&self, before: &Self, per: f64) -> Self {
        let mut out = Self::default();
        for (tree, ops) in &self.0 {
            for (op, n) in ops {
                let was = before
                    .0
                    .get(tree)
                    .and_then(|o| o.get(op))
                    .copied()
                    .unwrap_or(0.0);
                let delta = n - was;
                if delta > 0.0 {
                    out.0
                        .entry(tree.clone())
                        .or_default()
                        .insert(op.clone(), delta / per.max(1.0));
                }
            }
        }
        out
    }

    /// The total of `op` over every tree.
    pub fn total(&self, op: &str) -> f64 {
        self.0.values().filter_map(|ops| ops.get(op)).sum()
    }

    /// `{"trees": {tree: {op: n}}, "total": {op: n}, "lookups": gets, "rewrites": inserts +
    /// removes}` (scans listed apart: one scan reads many keys).
    pub fn to_json(&self) -> serde_json::Value {
        let total: serde_json::Map<String, serde_json::Value> = OPS
            .iter()
            .map(|op| (op.to_string(), self.total(op).into()))
            .collect();
        serde_json::json!({
            "trees": self.0,
            "total": total,
            "lookups": self.total("get"),
            "rewrites": self.total("insert") + self.total("remove"),
            "scans": self.total("scan"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_read_by_label_and_divided_per_escalation() {
        let before = StoreOps::parse(
            "# TYPE socfed_agent_store_ops_total counter\n\
             socfed_agent_store_ops_total{tree=\"outbox\",op=\"insert\"} 2\n",
            AGENT_METRIC,
        );
        let after = StoreOps::parse(
            "socfed_agent_store_ops_total{tree=\"outbox\",op=\"insert\"} 12\n\
             socfed_agent_store_ops_total{op=\"get\",tree=\"meta\"} 30\n\
             socfed_agent_store_ops_total_other{tree=\"x\",op=\"get\"} 7\n\
             socfed_hub_store_ops_total{tree=\"incidents\",op=\"get\"} 5\n",
            AGENT_METRIC,
        );
        let per = after.since(&before, 10.0);
        assert_eq!(per.0["outbox"]["insert"], 1.0);
        assert_eq!(per.0["meta"]["get"], 3.0);
        assert!(!per.0.contains_key("x") && !per.0.contains_key("incidents"));
        assert_eq!(per.to_json()["lookups"], 3.0);
        assert_eq!(per.to_json()["rewrites"], 1.0);
    }
}
