//! The command line: clap definitions and help text, and nothing else.
//!
//! The doc comments here become `--help`, the man pages and the completion
//! scripts, so they are written for users. Parsing has no side effects: commands
//! receive these structs and do their work elsewhere.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0    everything asked for succeeded
  1    failure: every upload failed, or a server/network error
  2    usage or input error: nothing was sent
  3    partial: some uploads succeeded, some failed
  4    authentication: no credentials, or the server answered 401/403
  130  interrupted (Ctrl-C): uploads in flight stopped, finished ones reported";

/// Upload images to Capillary's file service.
#[derive(Debug, Parser)]
#[command(name = "capfile", version, about, long_about = None, after_long_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Profile to use from the config file
    #[arg(short = 'p', long, global = true, env = "CAPFILE_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Config file to read and edit instead of the default location
    #[arg(long, global = true, env = "CAPFILE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print results only: no progress, no summary
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more about what is happening (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to use colour on standard error (NO_COLOR is honoured)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload images to the file service
    #[command(after_long_help = UPLOAD_EXAMPLES)]
    Upload(UploadArgs),
    /// Save credentials for a profile (secret in the OS keyring)
    #[command(after_long_help = LOGIN_EXAMPLES)]
    Login(LoginArgs),
    /// Remove the profile's saved secret (its settings stay)
    Logout,
    /// Read and edit settings
    #[command(after_long_help = CONFIG_EXAMPLES)]
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Run the local file service (an emulator of Capillary's)
    #[command(after_long_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Print a shell completion script
    Completions {
        /// The shell to print the script for
        #[arg(value_enum)]
        shell: Shell,
    },
}

const UPLOAD_EXAMPLES: &str = "\
Examples:
  capfile upload a.png b.jpg
  capfile upload a.png --json | jq -r .secureFilePath
  cat a.png | capfile upload - --name a.png
  capfile upload --placeholder banner.png
  capfile upload -r images/ -j 8 -o url
  capfile upload --local a.png";

const LOGIN_EXAMPLES: &str = "\
Examples:
  capfile login
  printf '%s' \"$PASSWORD\" | capfile login --base-url https://eu.api.capillarytech.com \\
      --username store123 --password-stdin
  printf '%s' \"$SECRET\" | capfile -p ci login --auth oauth --client-key KEY --client-secret-stdin";

const CONFIG_EXAMPLES: &str = "\
Examples:
  capfile config list
  capfile config get namespace
  capfile -p staging config set base_url https://eu.api.capillarytech.com
  capfile config unset jobs";

const SERVE_EXAMPLES: &str = "\
Examples:
  capfile serve
  capfile serve --addr 127.0.0.1:0 --data ./files
  capfile serve --fail-rate 0.3 --retry-after 1 --drop-rate 0.05";

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Image files to upload; `-` reads standard input (needs --name)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Remote file name, for a single input (default: the file's base name)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Namespace to upload into [env: CAPFILE_NAMESPACE] [default: rewards]
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,

    /// Base URL of the Capillary API host [env: CAPFILE_BASE_URL]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// How the image is sent: a multipart part named `file`, or the raw bytes
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub body: Option<BodyFormat>,

    /// Create placeholders: each FILE is a remote name, and no body is sent
    #[arg(long)]
    pub placeholder: bool,

    /// Upload the image files inside directories, in sorted order
    #[arg(short = 'r', long)]
    pub recursive: bool,

    /// Send files that are not recognised as images
    #[arg(long)]
    pub allow_any_type: bool,

    /// Number of uploads in flight at once [default: 4]
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,

    /// Retries for connection errors, timeouts, 408, 429 and 5xx [default: 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: Option<u32>,

    /// Fail a request that makes no progress for this many seconds [default: 60]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub timeout: Option<u64>,

    /// Check inputs and credentials and show what would be sent; send nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Output format on standard output [default: table]
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,

    /// Print the server's JSON response (same as -o json)
    #[arg(long, conflicts_with = "output")]
    pub json: bool,

    /// Do not show progress bars or per-file progress lines
    #[arg(long)]
    pub no_progress: bool,

    /// Upload to the local file service at 127.0.0.1:7878, starting it if needed
    #[arg(long, conflicts_with = "base_url")]
    pub local: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BodyFormat {
    /// multipart/form-data with one part named `file`
    Multipart,
    /// The image bytes as the body, with the image MIME type as Content-Type
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// name, version and secure URL (tab-separated when not a terminal)
    Table,
    /// The server's response body, unchanged (one document per line when piped)
    Json,
    /// The secure URL alone, one per line
    Url,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthKind {
    /// Till username and the MD5 of its password
    Basic,
    /// API client key and secret, exchanged for a token
    Oauth,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Base URL of the Capillary API host (https, or http to a loopback host)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Authentication kind
    #[arg(long, value_enum)]
    pub auth: Option<AuthKind>,

    /// Till username (basic auth)
    #[arg(long, value_name = "USER", conflicts_with = "client_key")]
    pub username: Option<String>,

    /// API client key (OAuth)
    #[arg(long, value_name = "KEY")]
    pub client_key: Option<String>,

    /// Read the password from standard input (basic auth)
    #[arg(long, conflicts_with = "client_secret_stdin")]
    pub password_stdin: bool,

    /// Read the client secret from standard input (OAuth)
    #[arg(long)]
    pub client_secret_stdin: bool,

    /// Store the secret in credentials.toml (mode 0600) instead of the OS keyring
    #[arg(long)]
    pub insecure_storage: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Show every effective setting and where it came from
    List {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Print the effective value of one setting
    Get {
        /// Setting name, e.g. base_url or namespace
        key: String,
    },
    /// Set a value in the selected profile
    Set {
        /// Setting name
        key: String,
        /// New value
        value: String,
    },
    /// Remove a value from the selected profile
    Unset {
        /// Setting name
        key: String,
    },
    /// List the profiles in the config file
    Profiles,
    /// Print the config file's path
    Path,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, default_value = crate::emulator::DEFAULT_ADDR, value_name = "ADDR")]
    pub addr: std::net::SocketAddr,

    /// Directory for stored files and versions [default: the platform data dir]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Basic-auth username the service accepts
    #[arg(long, env = "CAPFILE_SERVE_USERNAME", default_value = crate::emulator::DEFAULT_USERNAME)]
    pub username: String,

    /// Basic-auth password the service accepts (clients send its MD5)
    #[arg(long, env = "CAPFILE_SERVE_PASSWORD", default_value = crate::emulator::DEFAULT_PASSWORD, hide_env_values = true)]
    pub password: String,

    /// OAuth client key the token endpoint accepts
    #[arg(long, env = "CAPFILE_SERVE_CLIENT_KEY", default_value = crate::emulator::DEFAULT_CLIENT_KEY)]
    pub client_key: String,

    /// OAuth client secret the token endpoint accepts
    #[arg(long, env = "CAPFILE_SERVE_CLIENT_SECRET", default_value = crate::emulator::DEFAULT_CLIENT_SECRET, hide_env_values = true)]
    pub client_secret: String,

    /// Lifetime of OAuth tokens, in seconds
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub token_ttl: u64,

    /// Lifetime of secure file URLs, in seconds
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub url_ttl: u64,

    /// Base of the secure URLs it hands out [default: http://ADDR]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Share of uploads answered with --fail-status (0 to 1), for rehearsing retries
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    pub fail_rate: f64,

    /// Status of injected failures
    #[arg(long, default_value_t = 503, value_name = "CODE")]
    pub fail_status: u16,

    /// Send Retry-After with injected failures, in seconds
    #[arg(long, value_name = "SECS")]
    pub retry_after: Option<u64>,

    /// Added latency per request, in milliseconds
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,

    /// Share of uploads whose connection is dropped mid-body (0 to 1)
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    pub drop_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["capfile", "upload", "a.png", "-p", "ci", "-q"]).unwrap();
        assert_eq!(cli.global.profile.as_deref(), Some("ci"));
        assert!(cli.global.quiet);
    }

    #[test]
    fn json_conflicts_with_output() {
        assert!(Cli::try_parse_from(["capfile", "upload", "a.png", "--json", "-o", "url"]).is_err());
    }

    #[test]
    fn jobs_must_be_positive() {
        assert!(Cli::try_parse_from(["capfile", "upload", "a.png", "-j", "0"]).is_err());
    }
}
