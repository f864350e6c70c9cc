//! `sirt-hub`: the central SIRT hub and its command-line tools. All logic is in the library.

fn main() -> std::process::ExitCode {
    sirt_hub::cli::main()
}
