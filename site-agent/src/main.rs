//! `site-agent`: the per-site SOC agent and its command-line tools. All logic is in the library.

fn main() -> std::process::ExitCode {
    site_agent::cli::main()
}
