//! cargo-fuzz target `incident_report`: the body is `socfed_proto::vocab::fuzzing::incident_report`, shared with the stable smoke test.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| socfed_proto::vocab::fuzzing::incident_report(data));
