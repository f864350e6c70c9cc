//! cargo-fuzz target `alert_native`: the body is `site_agent::soc::parse::fuzzing::native`, shared with the stable smoke test.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| site_agent::soc::parse::fuzzing::native(data));
