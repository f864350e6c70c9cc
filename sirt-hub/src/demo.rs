//! `sirt-hub demo`: a local federation on loopback (placeholder until the agent exists).

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep PKI, configs and data here instead of a temporary directory.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Leave the federation running and print the commands to query it.
    #[arg(long, requires = "dir")]
    pub keep_running: bool,
}

pub async fn run(_args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("demo: not yet wired")
}
