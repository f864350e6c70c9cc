//! cargo-fuzz target `site_message`: the body is `sirt_hub::grpc::federation::wire::site_message`, shared with the stable smoke test.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sirt_hub::grpc::federation::wire::site_message(data));
