//! Compiles `socfed/v1/*.proto` with protox (pure Rust), so no `protoc` is needed on the machine.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "socfed/v1/types.proto",
        "socfed/v1/response.proto",
        "socfed/v1/observables.proto",
        "socfed/v1/runbook.proto",
        "socfed/v1/federation.proto",
        "socfed/v1/operator.proto",
        "socfed/v1/site_local.proto",
        "socfed/v1/site_soc.proto",
        "socfed/v1/site_response.proto",
        "socfed/v1/site_casework.proto",
        "socfed/v1/hub_casework.proto",
        "socfed/v1/hunt_library.proto",
        "socfed/v1/enrolment.proto",
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // The descriptor set also feeds gRPC server reflection.
    std::fs::write(
        out_dir.join("socfed_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // No `connect(addr)` helpers: clients are built on a channel the runtime configures
        // (mutual TLS), and the contract needs no transport.
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
