//! The connection flags of every client command, one struct for both binaries: the service's
//! address (each binary names its own flag, see [`Endpoint`]), the operator certificate, the
//! connect timeout and `--output`; and the mutual-TLS channel they make.

use super::explain::explain;
use super::output::{OutputArgs, OutputFormat};
use crate::tls::{ExpectedServer, Target, TlsFiles, TlsMaterial};
use std::path::PathBuf;
use std::time::Duration;
use tonic::Status;
use tonic::transport::Channel;

/// How long a client command waits for the TCP connection and the TLS handshake. Past it the
/// call fails as [`ClientError::Unreachable`] (exit status 69) instead of hanging; a call
/// that did connect (`incidents watch`) may then last as long as it needs.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The service a binary's client commands talk to. Each binary keeps its own address flag
/// (`--hub` with `SOCFED_HUB`, `--agent` with `SOCFED_AGENT`) and its own words for the
/// certificate name; [`ClientArgs`] adds everything else.
pub trait Endpoint: clap::Args {
    /// `host:port` to connect to (the first, when there are several).
    fn address(&self) -> &str;
    /// Every `host:port` to try, in order (replicas of one service); by default the one
    /// [`Self::address`]. Each gets the same [`Self::server_name`], or its own host.
    fn addresses(&self) -> Vec<&str> {
        vec![self.address()]
    }
    /// The name the service's certificate must carry; `None`: the host of [`Self::address`].
    fn server_name(&self) -> Option<&str>;
    /// Who the service must be (checked against its certificate).
    fn expected(&self) -> ExpectedServer;
    /// The service in a sentence: "the hub at 127.0.0.1:7443".
    fn describe(&self) -> String;
}

/// The operator certificate a CLI command presents.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientTlsArgs {
    /// Organisation CA certificate (PEM).
    #[arg(long, env = "SOCFED_CA", global = true)]
    pub ca: Option<PathBuf>,
    /// Your operator certificate (PEM), from `sirt-hub pki issue --operator NAME`.
    #[arg(long, env = "SOCFED_CERT", global = true)]
    pub cert: Option<PathBuf>,
    /// The private key of that certificate (PEM).
    #[arg(long, env = "SOCFED_KEY", global = true)]
    pub key: Option<PathBuf>,
}

/// Everything a client command needs to reach its service and print the answer, flattened
/// into every such command of both binaries.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs<E: Endpoint> {
    #[command(flatten)]
    pub endpoint: E,
    #[command(flatten)]
    pub tls: ClientTlsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl<E: Endpoint> ClientArgs<E> {
    /// A mutual-TLS channel to the service, which must prove to be [`Endpoint::expected`].
    /// With several addresses it connects to the first that answers (`tls::channel_any`):
    /// only a failed connect moves on, never a call that reached a server.
    pub fn channel(&self) -> Result<Channel, ClientError> {
        self.tls.channel_any(
            &self.endpoint.addresses(),
            self.endpoint.server_name(),
            self.endpoint.expected(),
        )
    }

    /// The service in a sentence, for error messages.
    pub fn name(&self) -> String {
        self.endpoint.describe()
    }

    /// A failed call as a sentence with a next step (see [`explain`]).
    pub fn explain(&self, status: &Status) -> ClientError {
        explain(status, &self.name())
    }

    /// `--output`.
    pub fn format(&self) -> OutputFormat {
        self.output.format
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is required for this command: pass --{0} or set SOCFED_{1}")]
    Missing(&'static str, &'static str),
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The service answered and refused or failed the call; the text says what to do next.
    #[error("{0}")]
    Call(String),
    /// The service did not answer at all (connection refused, TLS handshake never done): exit
    /// status [`super::EX_UNAVAILABLE`], so scripts can tell "down" from "answered no".
    #[error("{0}")]
    Unreachable(String),
}

impl ClientTlsArgs {
    /// Connects to the first of `addresses` that completes the TLS handshake, requiring the
    /// server to be `expected`; `server_name` for all of them, or each one's own host.
    pub fn channel_any(
        &self,
        addresses: &[&str],
        server_name: Option<&str>,
        expected: ExpectedServer,
    ) -> Result<Channel, ClientError> {
        let files = TlsFiles {
            ca: self.ca.clone().ok_or(ClientError::Missing("ca", "CA"))?,
            cert: self
                .cert
                .clone()
                .ok_or(ClientError::Missing("cert", "CERT"))?,
            key: self.key.clone().ok_or(ClientError::Missing("key", "KEY"))?,
            crl: None,
        };
        let material = TlsMaterial::load_inferring_domain(&files)?;
        let targets: Vec<Target> = addresses
            .iter()
            .map(|address| Target {
                address: (*address).to_string(),
                server_name: server_name.unwrap_or_else(|| host_of(address)).to_string(),
            })
            .collect();
        Ok(crate::tls::channel_any(
            &targets,
            material.client_config(expected)?,
            CONNECT_TIMEOUT,
        )?)
    }
}

/// `host` of `host:port` or `[v6]:port`.
pub fn host_of(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    address.rsplit_once(':').map_or(address, |(host, _)| host)
}

/// The host of a URL: the only part of a webhook URL that is ever logged or recorded (the path
/// and userinfo often carry a token).
pub fn url_host(url: &str) -> String {
    url.parse::<tonic::codegen::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| "(unparsable URL)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// A binary's endpoint as the hub's and the agent's are written.
    #[derive(Debug, Clone, clap::Args)]
    struct TestEndpoint {
        #[arg(long, default_value = "127.0.0.1:1", global = true)]
        svc: String,
    }

    impl Endpoint for TestEndpoint {
        fn address(&self) -> &str {
            &self.svc
        }
        fn server_name(&self) -> Option<&str> {
            None
        }
        fn expected(&self) -> ExpectedServer {
            ExpectedServer::Hub
        }
        fn describe(&self) -> String {
            format!("the service at {}", self.svc)
        }
    }

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        client: ClientArgs<TestEndpoint>,
        #[command(subcommand)]
        command: Option<Sub>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        List,
    }

    #[test]
    fn the_flags_parse_before_or_after_a_nested_subcommand() -> Result<(), clap::Error> {
        for args in [
            ["t", "--svc", "h:9", "-o", "json", "list"],
            ["t", "list", "--svc", "h:9", "--output", "json"],
        ] {
            let cli = Cli::try_parse_from(args)?;
            assert_eq!(cli.client.format(), OutputFormat::Json);
            assert_eq!(cli.client.name(), "the service at h:9");
        }
        let cli = Cli::try_parse_from(["t"])?;
        assert_eq!(cli.client.format(), OutputFormat::Table);
        Ok(())
    }

    #[test]
    fn a_missing_certificate_names_the_flag_and_the_variable() {
        let cli = Cli {
            client: ClientArgs {
                endpoint: TestEndpoint { svc: "h:1".into() },
                tls: ClientTlsArgs {
                    ca: None,
                    cert: None,
                    key: None,
                },
                output: OutputArgs {
                    format: OutputFormat::Table,
                },
            },
            command: None,
        };
        let error = cli.client.channel().err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("ca is required for this command: pass --ca or set SOCFED_CA")
        );
    }

    #[test]
    fn url_host_shows_only_the_host() {
        assert_eq!(
            url_host("https://hooks.chat.example/services/T0/SECRET"),
            "hooks.chat.example"
        );
        assert_eq!(url_host("http://user:pw@10.0.0.5:8080/x"), "10.0.0.5");
        assert_eq!(url_host("not a url"), "(unparsable URL)");
    }

    #[test]
    fn host_of_handles_v4_v6_and_names() {
        assert_eq!(host_of("127.0.0.1:7443"), "127.0.0.1");
        assert_eq!(host_of("[::1]:7443"), "::1");
        assert_eq!(host_of("hub.corp.example:7443"), "hub.corp.example");
    }
}
