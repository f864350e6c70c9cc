//! Fuzz target body for the incident report decoder, shared by the cargo-fuzz target under
//! `fuzz/` and the stable-toolchain smoke test: protobuf decode, then the wire→domain
//! conversion. A report that converts must be a fixed point of normalisation: encoding it
//! and converting again gives the same report and the same content hash (otherwise two
//! sites reporting the same thing would not deduplicate).

use super::{IncidentReport, ReportLimits};
use crate::pb;
use prost::Message;

/// Decodes `data` as a wire `IncidentReport` and converts it with the default limits.
pub fn incident_report(data: &[u8]) {
    let Ok(wire) = pb::IncidentReport::decode(data) else {
        return;
    };
    let limits = ReportLimits::default();
    let Ok(report) = IncidentReport::from_wire(wire, &limits) else {
        return;
    };
    let again = IncidentReport::from_wire(report.to_wire(), &limits)
        .expect("a normalised report converts again");
    assert_eq!(again, report, "normalisation is not idempotent");
    assert_eq!(again.content_hash(), report.content_hash());
}
