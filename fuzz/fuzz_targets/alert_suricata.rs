//! cargo-fuzz target `alert_suricata`: the body is `site_agent::soc::parse::fuzzing::suricata`, shared with the stable smoke test.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| site_agent::soc::parse::fuzzing::suricata(data));
