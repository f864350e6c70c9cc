//! Fuzz target bodies for the intelligence imports, shared by the cargo-fuzz targets under
//! `fuzz/` and the stable smoke test. Any input either is refused as a whole or yields
//! indicators that are fixed points of normalisation, with cleaned text.

use super::import;
use socfed_proto::vocab::Indicator;

fn check(set: &super::IocSet) {
    for e in &set.entries {
        let again = Indicator::new(e.indicator.kind(), e.indicator.value());
        assert_eq!(
            again.as_ref(),
            Ok(&e.indicator),
            "normalisation is not idempotent"
        );
        for text in [&e.name, &e.source_ref] {
            assert!(!text.chars().any(socfed_proto::text::is_unsafe), "{text:?}");
        }
    }
    for r in &set.refused {
        assert!(!r.object.chars().any(socfed_proto::text::is_unsafe));
        assert!(!r.reason.chars().any(socfed_proto::text::is_unsafe));
    }
}

/// A STIX bundle import.
pub fn stix_bundle(data: &[u8]) {
    if let Ok(set) = import::stix_bundle(data) {
        check(&set);
    }
}

/// A MISP event import.
pub fn misp_event(data: &[u8]) {
    if let Ok(set) = import::misp_event(data) {
        check(&set);
    }
}
