//! `gac-agent`: the binary. Parses the command line and hands over to the library:
//! `run` (the default) collects and ships, `enroll` obtains the agent's certificate,
//! `check-config` loads the config and says what is wrong with it.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gac_agent::config::{Config, DEFAULT_CONFIG_PATH};

/// Gác agent: tails logs, relays syslog, spools to disk and ships to gac-server over
/// mutual TLS.
#[derive(Debug, Parser)]
#[command(name = "gac-agent", version)]
struct Cli {
    /// The config file.
    #[arg(long, short, env = "GAC_AGENT_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect and ship until SIGTERM (the default).
    Run,
    /// Enroll with the server using a token from `gac-server token create`.
    Enroll {
        /// The server's agent endpoint, https://HOST[:PORT] (port default 7711).
        #[arg(long)]
        server: String,
        /// The enrollment token (gacenroll1.<secret>.<CA fingerprint>).
        #[arg(long, env = "GAC_ENROLL_TOKEN")]
        token: String,
    },
    /// Load the config and report problems.
    CheckConfig,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal: under systemd the journal would keep the escapes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let load =
        || Config::load(&cli.config).with_context(|| format!("loading {}", cli.config.display()));
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => gac_agent::agent::run(load()?),
        Command::CheckConfig => {
            load()?;
            println!("{}: ok", cli.config.display());
            Ok(())
        }
        Command::Enroll { server, token } => {
            // Enrollment works before a config exists: defaults then.
            let config = if cli.config.exists() {
                load()?
            } else {
                Config::parse("")?
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let machine_id = gac_agent::enroll::machine_id(config.machine_id_path.as_deref())?;
            let hostname = gac_agent::enroll::hostname(config.hostname.as_deref());
            let e = rt.block_on(gac_agent::enroll::enroll(
                &server,
                &token,
                &config.state_dir,
                &machine_id,
                &hostname,
            ))?;
            println!(
                "enrolled as {} with {}; state in {}",
                e.agent_id,
                e.server_url,
                config.state_dir.display()
            );
            Ok(())
        }
    }
}
