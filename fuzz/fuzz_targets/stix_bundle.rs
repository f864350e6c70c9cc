//! cargo-fuzz target `stix_bundle`: the body is `sirt_hub::intel::fuzzing::stix_bundle`, shared with the stable smoke test.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sirt_hub::intel::fuzzing::stix_bundle(data));
