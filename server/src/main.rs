//! The `gac-server` binary: `init` writes a working config, data directory, admin
//! token and agent CA; `run` starts the server; `token create` makes more API tokens
//! (or, with `--enroll`, agent enrollment tokens); `agent list|revoke` manages agents.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use gac_event::Timestamp;
use gac_server::agents::pki::{self, Pki};
use gac_server::agents::{Registry, enroll};
use gac_server::auth::{self, Role, Tokens};
use gac_server::config::{self, Config};

/// An event is built from a few short-lived allocations (its text, its field vector)
/// that the pipeline's tasks make on one thread and drop on another: jemalloc serves
/// them from per-thread caches, the 1.8 KB field vector included. ARCHITECTURE.md, "The
/// server allocates with jemalloc".
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
        /// Address of the agent endpoint (HTTPS, mutual TLS).
        #[arg(long, default_value = "0.0.0.0:7711")]
        agent_listen: SocketAddr,
        /// Directory with `rules/` and `mappings/` (the repository's `detections/`) to
        /// load Sigma rules from; without it detection is off until configured.
        #[arg(long)]
        detections: Option<PathBuf>,
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Run the server until SIGINT or SIGTERM.
    Run,
    /// Read raw records (one per line) on stdin and print the events the server would
    /// store, as JSON lines; a count per format goes to stderr. Enriched with the
    /// config's GeoIP and inventory when the config file exists.
    Parse {
        /// auto, syslog, or a format name (an unknown name lists them all).
        #[arg(long, default_value = "auto")]
        format: String,
        /// Zone for records without one (IANA name); default: the config's, else
        /// Asia/Ho_Chi_Minh.
        #[arg(long)]
        zone: Option<String>,
        /// Receive time to assume (RFC 3339), for reproducible output; default: now.
        #[arg(long)]
        received: Option<gac_event::Timestamp>,
    },
    /// Send the records of a Windows .evtx file into the running server through its TCP
    /// syslog input (so they are logged, parsed, enriched and checked like live ones).
    Import {
        /// The .evtx file.
        file: PathBuf,
        /// Where to send; default: the config's first TCP syslog input.
        #[arg(long)]
        to: Option<SocketAddr>,
    },
    /// Manage API tokens and agent enrollment tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage enrolled agents.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Refuse an agent from now on (its batches, heartbeats and re-enrollment).
    Revoke {
        /// The agent id (see `agent list`).
        id: String,
    },
    /// List enrolled agents.
    List,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it (it is shown only once).
    Create {
        /// A name to recognise the API token by.
        #[arg(long, required_unless_present = "enroll")]
        name: Option<String>,
        /// viewer, analyst or admin.
        #[arg(long, default_value = "analyst")]
        role: String,
        /// Make a one-time agent enrollment token instead
        /// (`gac-agent enroll --token ...`).
        #[arg(long, conflicts_with = "name")]
        enroll: bool,
        /// How long the enrollment token stays valid, in seconds (default: the config's
        /// `agents.enroll_token_ttl_secs`).
        #[arg(long, requires = "enroll")]
        ttl_secs: Option<u64>,
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
            agent_listen,
            detections,
            force,
        } => init(
            &cli.config,
            &data_dir,
            (syslog_port, api_listen, agent_listen),
            detections.as_deref(),
            force,
        ),
        Command::Agent { command } => agent_command(&Config::load(&cli.config)?, command),
        Command::Parse {
            format,
            zone,
            received,
        } => {
            let config = cli
                .config
                .exists()
                .then(|| Config::load(&cli.config))
                .transpose()?;
            let zone_name = zone
                .or_else(|| config.as_ref().map(|c| c.timezone.clone()))
                .unwrap_or_else(|| "Asia/Ho_Chi_Minh".to_owned());
            let stdin = std::io::stdin().lock();
            gac_server::tools::parse(
                stdin,
                std::io::stdout().lock(),
                std::io::stderr().lock(),
                format.parse()?,
                config::parse_zone(&zone_name)?,
                received,
                config.as_ref().map(|c| &c.enrich),
            )
        }
        Command::Import { file, to } => {
            let to = match to {
                Some(addr) => addr,
                None => gac_server::tools::tcp_input(&Config::load(&cli.config)?)?,
            };
            let done = gac_server::tools::import_evtx(&file, to)?;
            println!(
                "{} records sent to {to}; {} damaged records skipped (listed above)",
                done.sent, done.damaged
            );
            Ok(())
        }
        Command::Run => {
            let config = Config::load(&cli.config)?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("gac-server")
                .build()?
                .block_on(gac_server::pipeline::run(config))
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    enroll: true,
                    ttl_secs,
                    ..
                },
        } => {
            let config = Config::load(&cli.config)?;
            let ttl = ttl_secs.unwrap_or_else(|| {
                config
                    .agents
                    .clone()
                    .unwrap_or_default()
                    .enroll_token_ttl_secs
            });
            let registry = Registry::open(&config.data_dir)?;
            let token = enroll::create_token(
                &config.data_dir,
                &registry,
                std::time::Duration::from_secs(ttl),
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { name, role, .. },
        } => {
            let config = Config::load(&cli.config)?;
            let name = name.context("--name is required for an API token")?;
            let role: Role = serde_json::from_value(serde_json::Value::String(role.clone()))
                .with_context(|| format!("unknown role {role:?}: use viewer, analyst or admin"))?;
            let token = Tokens::create(&config.data_dir, &name, role)?;
            println!("{token}");
            Ok(())
        }
    }
}

fn agent_command(config: &Config, command: AgentCommand) -> anyhow::Result<()> {
    let registry = Registry::open(&config.data_dir)?;
    match command {
        AgentCommand::Revoke { id } => {
            if registry.revoke(&id, Timestamp::now())? {
                println!("revoked {id}");
            } else {
                println!("{id} was already revoked");
            }
        }
        AgentCommand::List => {
            println!(
                "{:<32}  {:<24}  {:<10}  {:<30}  revoked",
                "id", "hostname", "version", "last contact"
            );
            for a in registry.list()? {
                let t = |t: Option<Timestamp>| t.map_or("-".to_owned(), |t| t.to_string());
                println!(
                    "{:<32}  {:<24}  {:<10}  {:<30}  {}",
                    a.id,
                    a.hostname,
                    a.version,
                    t(a.last_contact),
                    t(a.revoked_at)
                );
            }
        }
    }
    Ok(())
}

fn init(
    config_path: &std::path::Path,
    data_dir: &std::path::Path,
    (syslog_port, api_listen, agent_listen): (u16, SocketAddr, SocketAddr),
    detections: Option<&std::path::Path>,
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
    let detections = detections.map(std::path::absolute).transpose()?;
    let text = config::example_with_agents(
        &data_dir,
        api_listen,
        syslog_port,
        detections.as_deref(),
        agent_listen,
    );
    Config::from_toml(&text).context("the generated config does not load (a bug)")?;
    std::fs::write(config_path, text)
        .with_context(|| format!("writing {}", config_path.display()))?;
    let token = Tokens::create(&data_dir, "admin", Role::Admin)?;
    let token_file = data_dir.join(auth::ADMIN_TOKEN_FILE);
    auth::write_private(&token_file, &format!("{token}\n"))?;
    println!("config:      {}", config_path.display());
    println!("data:        {}", data_dir.display());
    println!("admin token: {token}  (also in {})", token_file.display());
    // An existing CA is kept: agents enrolled with it would otherwise be locked out.
    Pki::ensure_ca(&data_dir)?;
    println!(
        "agent CA:    {} (fingerprint {})",
        data_dir.join(pki::PKI_DIR).join("ca.pem").display(),
        Pki::ca_fingerprint_at(&data_dir)?
    );
    println!(
        "start with:  gac-server --config {} run",
        config_path.display()
    );
    Ok(())
}
