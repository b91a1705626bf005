//! The `gac-server` binary: `init` writes a working config, data directory and admin
//! token; `run` starts the server; `token create` makes more API tokens.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use gac_server::auth::{self, Role, Tokens};
use gac_server::config::{self, Config};

/// Gác central server: syslog intake, write-ahead log, index, search API.
#[derive(Debug, Parser)]
#[command(name = "gac-server", version)]
struct Cli {
    /// Config file.
    #[arg(
        long,
        short,
        global = true,
        env = "GAC_SERVER_CONFIG",
        default_value = "/etc/gac/gac-server.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a documented config, create the data directory and the first admin token.
    Init {
        /// Data directory to create and name in the config.
        #[arg(long, default_value = "/var/lib/gac")]
        data_dir: PathBuf,
        /// Port of the UDP and TCP syslog listeners.
        #[arg(long, default_value_t = 5514)]
        syslog_port: u16,
        /// Address of the HTTP API.
        #[arg(long, default_value = "127.0.0.1:7710")]
        api_listen: SocketAddr,
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Run the server until SIGINT or SIGTERM.
    Run,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it (it is shown only once).
    Create {
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
        /// viewer, analyst or admin.
        #[arg(long, default_value = "analyst")]
        role: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Init {
            data_dir,
            syslog_port,
            api_listen,
            force,
        } => init(&cli.config, &data_dir, syslog_port, api_listen, force),
        Command::Run => {
            let config = Config::load(&cli.config)?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("gac-server")
                .build()?
                .block_on(gac_server::pipeline::run(config))
        }
        Command::Token {
            command: TokenCommand::Create { name, role },
        } => {
            let config = Config::load(&cli.config)?;
            let role: Role = serde_json::from_value(serde_json::Value::String(role.clone()))
                .with_context(|| format!("unknown role {role:?}: use viewer, analyst or admin"))?;
            let token = Tokens::create(&config.data_dir, &name, role)?;
            println!("{token}");
            Ok(())
        }
    }
}

fn init(
    config_path: &std::path::Path,
    data_dir: &std::path::Path,
    syslog_port: u16,
    api_listen: SocketAddr,
    force: bool,
) -> anyhow::Result<()> {
    if config_path.exists() && !force {
        bail!(
            "{} exists; pass --force to overwrite it",
            config_path.display()
        );
    }
    let data_dir = std::path::absolute(data_dir)?;
    if let Some(parent) = config_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let text = config::example(&data_dir, api_listen, syslog_port);
    Config::from_toml(&text).context("the generated config does not load (a bug)")?;
    std::fs::write(config_path, text)
        .with_context(|| format!("writing {}", config_path.display()))?;
    let token = Tokens::create(&data_dir, "admin", Role::Admin)?;
    let token_file = data_dir.join(auth::ADMIN_TOKEN_FILE);
    auth::write_private(&token_file, &format!("{token}\n"))?;
    println!("config:      {}", config_path.display());
    println!("data:        {}", data_dir.display());
    println!("admin token: {token}  (also in {})", token_file.display());
    println!(
        "start with:  gac-server --config {} run",
        config_path.display()
    );
    Ok(())
}
