//! The command line: clap definitions and help text, and nothing else.
//!
//! The doc comments here become `--help`, the man pages and the completion
//! scripts, so they are written for users. Parsing has no side effects: commands
//! receive these structs and do their work elsewhere.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use clap_complete::{ArgValueCandidates, ArgValueCompleter};

use complete::{complete_key, complete_profile, complete_upload_file, complete_value};

pub mod complete;
pub(crate) mod help;

// The domain's choices live in `settings`; re-exported here for the modules
// that still name them by their old path.
use crate::settings::Key;
use crate::settings::{AuthKind, BodyFormat, ColorChoice, HttpVersion, OutputFormat};

/// Upload images to Capillary's file service.
#[derive(Debug, Parser)]
#[command(
    name = "capfile",
    version,
    about,
    long_about = help::LONG_ABOUT,
    after_help = "Run `capfile --help` for the environment, files, exit codes and examples.",
    after_long_help = help::top_level(),
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Profile to use from the config file [default: default]
    #[arg(short = 'p', long, global = true, env = "CAPFILE_PROFILE", value_name = "NAME",
          add = ArgValueCompleter::new(complete_profile))]
    pub profile: Option<String>,

    /// Config file to read and edit instead of the default location
    #[arg(long, global = true, env = "CAPFILE_CONFIG", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    /// Print results only: no progress, no summary, no notes
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more on standard error: -v the settings used; -vv one line per
    /// HTTP request (method, URL, status, time, bytes, request id, attempt);
    /// -vvv also its headers (credentials redacted) and the start of an error
    /// body. `serve -v` logs one line per request
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to use colour on standard error (a non-empty NO_COLOR means never,
    /// unless --color always)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload images to the file service
    ///
    /// Every input is checked before anything is sent: a missing, empty,
    /// unreadable or non-image file (judged by its bytes, not its name), or the
    /// same remote name twice, refuses the whole batch with exit code 2. So
    /// does an image whose header cannot be read, one over max_pixels (default
    /// 100000000), and one that breaks the upload policy (--policy; rules in
    /// `capfile config --help`), one line per file: `banner.png: 1200x400 is
    /// not 1:1 (policy reward-art)`. --dry-run checks the same.
    ///
    /// Standard output carries results only: an aligned table on a terminal,
    /// `name<TAB>version<TAB>secureFilePath` lines when piped, the server's JSON
    /// with --json, the secure URLs alone with -o url, a record per input with
    /// -o records. Progress and the summary go to standard error.
    ///
    /// Credentials come from the environment (CAPFILE_USERNAME with
    /// CAPFILE_PASSWORD or CAPFILE_PASSWORD_MD5, or CAPFILE_CLIENT_KEY with
    /// CAPFILE_CLIENT_SECRET), else from what `capfile login` saved for the
    /// profile.
    ///
    /// Every input ends in one record: uploaded, failed, skipped or
    /// not_attempted (the batch stopped first: Ctrl-C, refused credentials, or a
    /// service that is plainly unreachable, which stops the batch after a few
    /// failures in a row). --report FILE appends the records to FILE as NDJSON,
    /// each flushed as its input ends; -o records prints them on standard
    /// output, in input order. --retry-from REPORT uploads again the failed and
    /// not_attempted inputs of a report, under the same remote names, and
    /// refuses a report written for another profile, host or namespace.
    ///
    /// Record fields (schema 1; every field is always present, null when it
    /// does not apply; later versions may add fields): schema (1), input (the
    /// path), name (the remote name), outcome, version, file_handle,
    /// secure_file_path, status (HTTP status of the last answer), error (one
    /// line), request_id (the server's X-Cap-Requestid), attempts, bytes,
    /// width and height (pixels, from the image's header), format (png, jpeg,
    /// ...), elapsed_ms, rate_wait_ms, response (the server's JSON body),
    /// maybe_duplicate (only when true: retried after the whole body was
    /// sent, the service may hold an extra version), profile, origin
    /// (scheme://host[:port]), namespace.
    #[command(after_long_help = help::subcommand("upload"), after_help = help::short_subcommand("upload"))]
    Upload(UploadArgs),
    /// Show what each image is, from its headers, and check it against a policy
    ///
    /// For each image, read from its headers without decoding pixels: format,
    /// width and height, bytes, colour model (rgb, grey, cmyk, palette), bit
    /// depth, alpha, frames (more than 1: animated), EXIF orientation, and
    /// whether it carries EXIF, a GPS location, XMP or an ICC profile. Formats:
    /// PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, AVIF, HEIC and SVG (its
    /// width/height or viewBox; an SVG with neither has no intrinsic size).
    ///
    /// Standard output: an aligned table on a terminal; tab-separated lines
    /// when piped, with the columns file, format, width, height, bytes, color,
    /// depth, alpha, frames, orientation, exif, gps, xmp, icc (yes/no; empty
    /// for a value the image does not have); with --json one object per line.
    ///
    /// The image is held to the policy that an upload would use (--policy,
    /// CAPFILE_POLICY, the profile's namespace policies, the profile's
    /// `policy`), and always to max_pixels (default 100000000): each file that
    /// breaks it is one error line naming the file, the rules, the values and
    /// the policy. A header that cannot be read is an error naming the file.
    /// Exit status 2 when any file was refused or unreadable.
    #[command(after_long_help = help::subcommand("inspect"))]
    Inspect(InspectArgs),
    /// Save credentials for a profile (secret in the OS keyring)
    ///
    /// On a terminal, login prompts for what the flags do not give, with hidden
    /// input for the secret. Without a terminal it needs --base-url, --username
    /// (or --auth oauth and --client-key) and the secret on standard input
    /// (--password-stdin or --client-secret-stdin): no flag takes a secret as its
    /// argument.
    ///
    /// Basic auth stores md5_hex(password), never the password; OAuth
    /// credentials are checked against the token endpoint before anything is
    /// saved. The secret goes to the OS keyring (Secret Service, macOS Keychain,
    /// Windows Credential Manager); where none is reachable, login fails and
    /// says so, and --insecure-storage writes credentials.toml (mode 0600)
    /// instead. Settings go to the profile in config.toml.
    ///
    /// The base URL must be https; plain http is accepted only for a loopback
    /// host. Credentials are never sent along a redirect to another host.
    #[command(after_long_help = help::subcommand("login"), after_help = help::short_subcommand("login"))]
    Login(LoginArgs),
    /// Remove the profile's saved secret (its settings stay)
    ///
    /// The secret is removed from the OS keyring and from credentials.toml;
    /// the profile's settings in config.toml stay. Secrets given in the
    /// environment are not affected.
    #[command(after_long_help = help::subcommand("logout"), after_help = help::short_subcommand("logout"))]
    Logout,
    /// Show the profile's setup and check it: URL, credentials, host
    ///
    /// For the selected profile (--profile, else CAPFILE_PROFILE, else
    /// `default`), or every profile with --all: the base URL and where it came
    /// from, the auth kind and identity, where the secret is (environment, OS
    /// keyring or credentials file) and whether it can be read, whether the OS
    /// keyring answers, and whether the host answers and routes the upload
    /// path (a GET of the upload endpoint, which creates nothing; a 404 there
    /// means the base URL is wrong). For OAuth it also asks the token endpoint for a
    /// token. A Basic password cannot be checked without an upload: the service
    /// has no endpoint that checks it, and status (like login) says so, and
    /// that a wrong one makes the first upload fail with 401 (exit 4).
    ///
    /// Exit status: 0 when everything that can be checked is fine, 4 when
    /// credentials are missing or refused, 1 when the host cannot be reached or
    /// the upload endpoint answers 404. No secret is ever printed.
    #[command(after_long_help = help::subcommand("status"), after_help = help::short_subcommand("status"))]
    Status(StatusArgs),
    /// Read and edit settings
    ///
    /// Settings live in profiles, the [profiles.NAME] tables of config.toml.
    /// `set` and `unset` edit the selected profile (--profile, else
    /// CAPFILE_PROFILE, else `default`) and keep the file's comments and layout.
    /// `list` and `get` show the effective values, as an upload would use them
    /// now: flag, then environment, then the profile, then the default.
    ///
    /// Keys: base_url, auth (basic or oauth), username, client_key, namespace,
    /// jobs (auto or a number), jobs_max, retries, timeout (seconds), rate
    /// (requests per period, e.g. 100/min), rate_wait (seconds), output (table,
    /// json, url or records), body (multipart or raw), http (auto, 1.1 or 2),
    /// manifest (a file path: upload --manifest), ca_bundle (a PEM file of
    /// extra CA certificates: upload --cacert), keyring (native, or keyutils:
    /// the Linux kernel keyring; login records the one it used), policy (the
    /// upload policy: a [policies.NAME] table). Policy rules are keys too:
    /// policies.NAME.RULE (e.g. policies.reward-art.max_bytes 200000), and
    /// policy.NAMESPACE (the profile's policy for one namespace). Secrets are
    /// not settings: use `capfile login`.
    #[command(
        after_long_help = help::subcommand("config"),
        after_help = help::short_subcommand("config"),
        subcommand_value_name = "ACTION",
        subcommand_help_heading = "Actions"
    )]
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Run the local file service (an emulator of Capillary's)
    ///
    /// The same upload endpoint, body formats, response shape and auth as
    /// Capillary's file service, over plain HTTP on a loopback address. Versions
    /// count up per namespace and name and survive restarts. Secure URLs are
    /// signed, expiring links to the emulator itself. Fault injection
    /// (--fail-rate, --retry-after, --latency-ms, --drop-rate) rehearses a flaky
    /// service, --rate-limit a rate-limited one, and --max-upload-bytes one
    /// with a size limit (413). --error-shape and
    /// --expired-token-498 answer errors in the other ways Capillary's hosts do.
    /// Every answer carries an X-Cap-Requestid; with -v, one line per request
    /// (method, path, status, time, fault injected, request id).
    ///
    /// It listens on loopback only, unless --public: its default credentials
    /// are published. The password and the OAuth client secret it accepts are
    /// read from CAPFILE_SERVE_PASSWORD and CAPFILE_SERVE_CLIENT_SECRET
    /// (defaults: capfile and capfile-local-secret), never from flags, which any
    /// user could read with `ps`.
    ///
    /// `capfile upload --local` finds this service (on the default data
    /// directory, at any --addr: it announces itself in serve.json there) and
    /// uses it with its default credentials; with none running, it starts one
    /// inside the upload at 127.0.0.1:7878.
    /// Ctrl-C or SIGTERM stops it, after letting uploads in flight finish for a
    /// few seconds; a second Ctrl-C stops it at once.
    #[command(after_long_help = help::subcommand("serve"), after_help = help::short_subcommand("serve"))]
    Serve(ServeArgs),
    /// Print a shell completion script
    ///
    /// The script goes to standard output; the examples show where each shell
    /// looks for it. The same scripts are in the completions/ directory of the
    /// source tree.
    ///
    /// The script asks `capfile` (on PATH) for the candidates as you type, so
    /// completion knows the subcommands and flags of the installed version,
    /// the profiles in config.toml (-p), the setting keys of `config
    /// get/set/unset` and the fixed values of a setting (`config set auth`),
    /// and offers directories and image files to `upload`.
    #[command(after_long_help = help::subcommand("completions"), after_help = help::short_subcommand("completions"))]
    Completions {
        /// The shell to print the script for
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Print the version, the commit it was built from, the target and the TLS backend
    Version,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Image files to upload; `-` reads standard input (needs --name)
    #[arg(value_name = "FILE", required_unless_present_any = ["retry_from", "files_from"],
          value_hint = ValueHint::AnyPath, add = ArgValueCompleter::new(complete_upload_file))]
    pub files: Vec<PathBuf>,

    /// Also upload the files listed in FILE, one per line (`-`: standard input);
    /// blank lines and lines starting with `#` or `;` are skipped, as rsync does
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub files_from: Option<PathBuf>,

    /// The --files-from list is NUL-separated, as `find -print0` writes it
    #[arg(short = '0', long = "null", requires = "files_from")]
    pub null: bool,

    /// Name each file after its path, joined with `_`: en/banner.png -> en_banner.png
    /// (with -r, the path below the directory given)
    #[arg(long, conflicts_with = "name")]
    pub name_from_path: bool,

    /// Remote file name, for a single input (default: the file's base name)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    #[arg(short = 'n', long, value_name = "NS", help = Key::Namespace.flag_help())]
    pub namespace: Option<String>,

    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, help = Key::BaseUrl.flag_help())]
    pub base_url: Option<String>,

    #[arg(long, value_enum, value_name = "FORMAT", help = Key::Body.spec().help)]
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

    #[arg(short = 'j', long, value_name = "N|auto", value_parser = parse_jobs, help = Key::Jobs.flag_help())]
    pub jobs: Option<String>,

    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(Key::JobsMax.range()),
          help = Key::JobsMax.flag_help())]
    pub jobs_max: Option<u16>,

    #[arg(long, value_enum, value_name = "VERSION", help = Key::Http.flag_help())]
    pub http: Option<HttpVersion>,

    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(Key::Retries.range()),
          help = Key::Retries.flag_help())]
    pub retries: Option<u32>,

    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(Key::Timeout.range_u64()),
          help = Key::Timeout.flag_help())]
    pub timeout: Option<u64>,

    #[arg(long, value_name = "N/PERIOD", help = Key::Rate.flag_help())]
    pub rate: Option<String>,

    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(Key::RateWait.range_u64()),
          help = Key::RateWait.flag_help())]
    pub max_rate_wait: Option<u64>,

    /// Check inputs and credentials (OAuth with the token endpoint) and show
    /// what would be sent; send nothing. The plan goes to standard error, or
    /// to standard output as a JSON object per input with --json or -o records
    #[arg(long)]
    pub dry_run: bool,

    #[arg(short = 'o', long, value_enum, value_name = "FORMAT", help = Key::Output.flag_help())]
    pub output: Option<OutputFormat>,

    /// Print the server's JSON response (same as -o json)
    #[arg(long, conflicts_with = "output")]
    pub json: bool,

    /// Do not show progress bars or per-file progress lines
    #[arg(long)]
    pub no_progress: bool,

    /// Upload to the local file service: the running `capfile serve` of the
    /// default data directory, else one started at 127.0.0.1:7878
    #[arg(long, conflicts_with = "base_url")]
    pub local: bool,

    /// Append one JSON record per input to FILE as each input ends
    ///
    /// An existing FILE must be a capfile report (every line a record); any
    /// other file is refused untouched. A FIFO, a pipe or /dev/null is
    /// written to as a stream.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub report: Option<PathBuf>,

    /// Upload again the failed and not attempted inputs of a --report file
    #[arg(long, value_name = "REPORT", value_hint = ValueHint::FilePath,
          conflicts_with_all = ["files", "name", "recursive"])]
    pub retry_from: Option<PathBuf>,

    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help = Key::CaBundle.flag_help(),
          long_help = CACERT_HELP)]
    pub cacert: Option<String>,

    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help = Key::Manifest.flag_help(),
          long_help = MANIFEST_HELP)]
    pub manifest: Option<String>,

    #[arg(long, value_name = "NAME", help = Key::Policy.flag_help())]
    pub policy: Option<String>,

    /// With a manifest: upload every input, unchanged or not, and refresh its entry
    #[arg(long)]
    pub force: bool,

    /// With a manifest: keep skipping unchanged inputs whose recorded URL has
    /// expired (they are shown as expired, never as a valid URL) instead of
    /// uploading them again for a fresh URL
    #[arg(long, conflicts_with = "force")]
    pub no_refresh: bool,

    #[command(flatten)]
    pub transforms: TransformArgs,
}

/// What to do to each image before it is sent; the originals are never
/// written (the result goes to a private temporary file, removed after the
/// upload). Each is also a policy entry (strip_metadata, auto_orient, fit,
/// reencode, convert, quality; a policy's max_bytes is the budget).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Transforms")]
pub struct TransformArgs {
    /// Remove EXIF, XMP, comments and GPS (lossless for JPEG, PNG and WebP;
    /// the ICC profile and a JPEG's orientation are kept)
    #[arg(long)]
    pub strip_metadata: bool,

    /// Turn images upright by their EXIF orientation (re-encodes them)
    #[arg(long)]
    pub auto_orient: bool,

    /// Scale images down (never up), keeping the aspect, to fit in WxH, e.g. 2048x2048
    #[arg(long, value_name = "WxH", value_parser = parse_fit)]
    pub fit: Option<(u32, u32)>,

    /// The most bytes a sent image may have; one over it fails (see --reencode)
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_bytes: Option<u64>,

    /// Lower the JPEG quality step by step (by 10, down to 20) until --max-bytes is met
    #[arg(long, requires = "max_bytes")]
    pub reencode: bool,

    /// Convert images to another format (re-encodes them)
    #[arg(long, value_name = "FORMAT")]
    pub convert: Option<ConvertTo>,

    /// JPEG quality of re-encoded images, 1 to 100 [default: 85]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: Option<u8>,
}

/// A format `--convert` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConvertTo {
    /// JPEG at --quality (lossy; alpha is dropped)
    #[value(alias = "jpg")]
    Jpeg,
    /// PNG (lossless)
    Png,
    /// WebP, written lossless (capfile has no lossy WebP encoder)
    Webp,
}

/// The transform flags as the transform module takes them (the command line
/// knows the transforms; they do not know the command line).
impl From<&TransformArgs> for crate::transform::Flags {
    fn from(args: &TransformArgs) -> crate::transform::Flags {
        crate::transform::Flags {
            strip_metadata: args.strip_metadata,
            auto_orient: args.auto_orient,
            fit: args.fit,
            max_bytes: args.max_bytes,
            reencode: args.reencode,
            convert: args.convert.map(|to| match to {
                ConvertTo::Jpeg => crate::image::Format::Jpeg,
                ConvertTo::Png => crate::image::Format::Png,
                ConvertTo::Webp => crate::image::Format::Webp,
            }),
            quality: args.quality,
        }
    }
}

/// `WxH`, both sides from 1.
fn parse_fit(text: &str) -> Result<(u32, u32), BadFit> {
    let pair = text
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)));
    match pair {
        Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(BadFit(text.to_string())),
    }
}

/// A `--fit` value that is not `WxH` (clap prints it after the flag).
#[derive(Debug)]
pub(crate) struct BadFit(String);

impl std::fmt::Display for BadFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "expected WIDTHxHEIGHT, e.g. 2048x2048, not {:?}", self.0)
    }
}

impl std::error::Error for BadFit {}

/// The long help of `--cacert`.
const CACERT_HELP: &str = "Trust the CA certificates in FILE (PEM) besides the system's, as curl --cacert: for a \
private CA or a proxy that intercepts TLS. The setting is ca_bundle (env CAPFILE_CA_BUNDLE, or in a profile). \
SSL_CERT_FILE (and SSL_CERT_DIR) replace the system's CA certificates instead. A proxy comes from \
https_proxy/HTTPS_PROXY (or http_proxy/HTTP_PROXY for an http:// base URL, then all_proxy/ALL_PROXY), \
except for loopback hosts and hosts in NO_PROXY; -v names the proxy in use.";

/// The long help of `--manifest`.
const MANIFEST_HELP: &str = "Record each upload in FILE (TOML, meant to be committed beside the files) and skip \
the inputs whose remote name and content (SHA-256) match their entry: their outcome is `skipped` and nothing is \
sent. A skipped input shows its recorded version and secure URL in the table and with -o url, its record with \
-o records and --report, and nothing with --json (there is no server answer to print). A recorded URL that has \
expired, or expires within 5 minutes, is uploaded again for a fresh one (see --no-refresh). The manifest belongs \
to one host, namespace and body format; another one is refused. FILE.lock beside it keeps two runs from mixing \
(the second waits up to 10 minutes); FILE.journal holds uploads until the run ends. With --dry-run, \
lists each input as new, changed, expired or forced (with the request it would send) or as skip, and sends \
nothing. [env: CAPFILE_MANIFEST]";

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image files to inspect
    #[arg(value_name = "FILE", required_unless_present = "files_from",
          value_hint = ValueHint::AnyPath, add = ArgValueCompleter::new(complete_upload_file))]
    pub files: Vec<PathBuf>,

    /// Also inspect the files listed in FILE, one per line (`-`: standard input)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub files_from: Option<PathBuf>,

    /// The --files-from list is NUL-separated, as `find -print0` writes it
    #[arg(short = '0', long = "null", requires = "files_from")]
    pub null: bool,

    /// Inspect the images inside directories, in sorted order
    #[arg(short = 'r', long)]
    pub recursive: bool,

    /// Print one JSON object per file, one per line
    #[arg(long)]
    pub json: bool,

    #[arg(long, value_name = "NAME", help = Key::Policy.flag_help())]
    pub policy: Option<String>,

    /// Namespace whose policy applies (see `[profiles.NAME.policies]`)
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,

    /// Show what each image would become with the transforms (given here or
    /// by the policy): size, format, bytes and what is done; nothing is sent
    /// or written
    #[arg(long)]
    pub apply: bool,

    #[command(flatten)]
    pub transforms: TransformArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Check every profile in the config file
    #[arg(long)]
    pub all: bool,

    /// Print the report as JSON, for scripts
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Base URL of the Capillary API host (https, or http to a loopback host)
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
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
        #[arg(add = ArgValueCandidates::new(complete_key))]
        key: String,
    },
    /// Set a value in the selected profile
    Set {
        /// Setting name
        #[arg(add = ArgValueCandidates::new(complete_key))]
        key: String,
        /// New value
        #[arg(add = ArgValueCompleter::new(complete_value))]
        value: String,
    },
    /// Remove a value from the selected profile
    Unset {
        /// Setting name
        #[arg(add = ArgValueCandidates::new(complete_key))]
        key: String,
    },
    /// List the profiles in the config file (on a terminal, `*` marks the active one)
    Profiles,
    /// Delete a profile: its settings in the config file and its saved secret
    DeleteProfile {
        /// Profile name
        name: String,
    },
    /// Print the config file's path
    Path,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port); loopback only, unless --public
    #[arg(long, default_value = crate::emulator::DEFAULT_ADDR, value_name = "ADDR")]
    pub addr: std::net::SocketAddr,

    /// Allow an --addr that is not loopback: anyone who can reach it can then
    /// upload with the default, publicly known credentials
    #[arg(long)]
    pub public: bool,

    /// Directory for stored files and versions [default: the platform data dir]
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub data: Option<PathBuf>,

    /// Basic-auth username the service accepts
    #[arg(long, env = "CAPFILE_SERVE_USERNAME", default_value = crate::emulator::DEFAULT_USERNAME)]
    pub username: String,

    /// OAuth client key the token endpoint accepts
    #[arg(long, env = "CAPFILE_SERVE_CLIENT_KEY", default_value = crate::emulator::DEFAULT_CLIENT_KEY)]
    pub client_key: String,

    /// Lifetime of OAuth tokens, in seconds
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub token_ttl: u64,

    /// Lifetime of secure file URLs, in seconds
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub url_ttl: u64,

    /// Base of the secure URLs it hands out [default: http://ADDR]
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
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

    /// Accept at most N uploads per credential in any rolling PERIOD (e.g.
    /// 100/min or 10/2s); answer the others 429
    #[arg(long, value_name = "N/PERIOD", value_parser = crate::settings::Rate::parse)]
    pub rate_limit: Option<crate::settings::Rate>,

    /// Send Retry-After with the 429s of --rate-limit (Capillary sends none)
    #[arg(long, requires = "rate_limit")]
    pub rate_limit_retry_after: bool,

    /// Body shape of the upload endpoint's error answers, one of Capillary's
    #[arg(long, value_enum, default_value_t = crate::emulator::ErrorShape::Errors, value_name = "SHAPE")]
    pub error_shape: crate::emulator::ErrorShape,

    /// Answer an expired OAuth token with 498 "Token expired", as Capillary
    /// documents, instead of 401
    #[arg(long)]
    pub expired_token_498: bool,

    /// Refuse uploads of files over N bytes with 413, in the --error-shape,
    /// storing nothing: a server-side size limit, beside capfile's own
    /// client-side checks (upload --policy)
    #[arg(long, value_name = "N")]
    pub max_upload_bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash, with the bash-completion package
    Bash,
    /// Zsh, loaded by compinit from a directory on $fpath
    Zsh,
    /// Fish
    Fish,
    /// PowerShell
    Powershell,
    /// Elvish
    Elvish,
}

/// `--jobs`: `auto` or a number in the settings table's range, kept as text
/// (the settings check it again, like the variable's).
fn parse_jobs(text: &str) -> Result<String, crate::settings::ValueError> {
    Key::Jobs.from_text(text).map(|_| text.trim().to_string())
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

    /// The prose that lists settings (the `config` help, the ENVIRONMENT
    /// table) is not generated; this holds it to the settings table.
    #[test]
    fn help_prose_names_every_setting_and_variable() {
        let command = Cli::command();
        let config = command.find_subcommand("config").unwrap();
        let about = config.get_long_about().unwrap().to_string();
        for key in Key::ALL {
            assert!(
                about.contains(key.name()),
                "`config --help` does not name {}",
                key.name()
            );
            let var = key.env_var();
            assert_eq!(var, format!("CAPFILE_{}", key.name().to_ascii_uppercase()));
            assert!(
                help::ENVIRONMENT.iter().any(|entry| entry.name == var),
                "help::ENVIRONMENT lacks {var}"
            );
        }
    }

    #[test]
    fn jobs_must_be_positive() {
        assert!(Cli::try_parse_from(["capfile", "upload", "a.png", "-j", "0"]).is_err());
        // The range comes from the settings table.
        assert!(Cli::try_parse_from(["capfile", "upload", "a.png", "-j", "64"]).is_ok());
        assert!(Cli::try_parse_from(["capfile", "upload", "a.png", "-j", "65"]).is_err());
        assert!(Cli::try_parse_from(["capfile", "upload", "a.png", "-j", "auto"]).is_ok());
        assert!(Cli::try_parse_from(["capfile", "upload", "a.png", "-j", "automatic"]).is_err());
    }
}
