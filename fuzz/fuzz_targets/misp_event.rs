//! cargo-fuzz target `misp_event`: the body is `sirt_hub::intel::fuzzing::misp_event`, shared with the stable smoke test.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sirt_hub::intel::fuzzing::misp_event(data));
