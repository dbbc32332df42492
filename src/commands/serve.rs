//! `capfile serve`: run the local file service until Ctrl-C or SIGTERM.
//!
//! Its secrets come from the environment only (there are no `--password` or
//! `--client-secret` flags): a flag's value is visible to every user of the
//! machine in `ps`. And it listens on loopback unless told
//! otherwise with `--public`, since its default credentials are published.
//!
//! Its refusals are [`ServeError`]s, reported as [`Error::Command`].

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::ServeArgs;
use crate::emulator::{self, Config, Emulator, Faults, RateLimit, RequestLog};
use crate::error::{CommandError, Error, ErrorKind, Exit, Failure};
use crate::interrupt::{Interrupts, Signals};
use crate::output::Verbosity;
use crate::settings::Env;

/// The variable that sets the Basic-auth password the service accepts.
const PASSWORD_VAR: &str = "CAPFILE_SERVE_PASSWORD";
/// The variable that sets the OAuth client secret the service accepts.
const CLIENT_SECRET_VAR: &str = "CAPFILE_SERVE_CLIENT_SECRET";

/// Why `capfile serve` refused to start, or could not. Each displays as one
/// line naming the flag, variable or address; [`ServeError::kind`] gives the
/// exit code. None holds a secret: the variables are named, never their values.
#[derive(Debug)]
pub(crate) enum ServeError {
    /// `--addr` is not a loopback address, and `--public` was not given.
    NotLoopback { addr: SocketAddr },
    /// `--fail-rate` or `--drop-rate` (the `flag`) outside 0..=1.
    BadShare { flag: &'static str, share: f64 },
    /// `--fail-status` that is not an HTTP status.
    BadStatus { status: u16 },
    /// A secret's variable set to the empty string.
    EmptySecret { variable: &'static str },
    /// A secret's variable that is not UTF-8.
    SecretNotText { variable: &'static str },
    /// The service could not start at `addr`: the port is taken, the data
    /// directory is locked by another emulator, or it cannot be created.
    Start { addr: SocketAddr, source: io::Error },
}

impl ServeError {
    /// The kind, which decides the exit code: a refused flag or variable is
    /// a usage error (2); a service that cannot start is a failure (1).
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            ServeError::Start { .. } => ErrorKind::Failure,
            _ => ErrorKind::Usage,
        }
    }

    /// The next step for the user, if there is an obvious one.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        match self {
            ServeError::NotLoopback { .. } => {
                Some("add --public to serve on it anyway, e.g. inside a container or a private network")
            }
            ServeError::Start { source, .. } => match source.kind() {
                // The data directory's lock (see `Emulator::start`).
                io::ErrorKind::ResourceBusy => Some("give this one a data directory of its own with --data"),
                io::ErrorKind::AddrInUse => Some(
                    "another program listens there: pick another port, or let the system pick a free one with --addr 127.0.0.1:0",
                ),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::NotLoopback { addr } => write!(
                f,
                "--addr {addr}: not a loopback address; the service's default credentials are public"
            ),
            ServeError::BadShare { flag, share } => write!(f, "{flag}: {share} is not a share between 0 and 1"),
            ServeError::BadStatus { status } => write!(f, "--fail-status: {status} is not an HTTP status"),
            ServeError::EmptySecret { variable } => write!(f, "{variable} is set but empty"),
            ServeError::SecretNotText { variable } => write!(f, "{variable} is not valid UTF-8"),
            ServeError::Start { addr, source } => write!(f, "cannot serve on {addr}: {source}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Start { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Failure for ServeError {
    fn kind(&self) -> ErrorKind {
        ServeError::kind(self)
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        ServeError::hint(self).map(Cow::Borrowed)
    }
}

/// Wrapped by the top-level `Error` as a command's own error.
impl CommandError for ServeError {}

pub(crate) fn run(args: ServeArgs, ctx: &super::Context) -> Result<Exit, Error> {
    let printer = &ctx.printer;
    if !args.addr.ip().is_loopback() && !args.public {
        return Err(ServeError::NotLoopback { addr: args.addr }.into());
    }
    for (flag, share) in [("--fail-rate", args.fail_rate), ("--drop-rate", args.drop_rate)] {
        if !(0.0..=1.0).contains(&share) {
            return Err(ServeError::BadShare { flag, share }.into());
        }
    }
    if !(100..=599).contains(&args.fail_status) {
        return Err(ServeError::BadStatus {
            status: args.fail_status,
        }
        .into());
    }
    let data_dir = args.data.clone().unwrap_or_else(emulator::default_data_dir);
    let (config, password_line) = emulator_config(&args, data_dir.clone(), ctx)?;
    let username = config.username.clone();
    let default_data = args.data.is_none();
    let runtime = super::runtime(super::Threads::PerCpu)?;
    let mut stop = Interrupts::install(Signals::CtrlCOrTerminate)?;
    runtime.block_on(async {
        let service = Emulator::start(args.addr, config)
            .await
            .map_err(|source| ServeError::Start {
                addr: args.addr,
                source,
            })?;
        printer.note(&format!(
            "capfile: local file service at {} (data in {}); Ctrl-C stops it",
            service.base_url(),
            data_dir.display()
        ));
        if default_data {
            printer.note("from another shell: `capfile upload --local FILE...` finds this service, or set");
        } else {
            printer.note("from another shell (`--local` finds only the default data directory's service), set");
        }
        printer.note(&format!(
            "  export CAPFILE_BASE_URL={} CAPFILE_USERNAME={username} {password_line}",
            service.base_url(),
        ));
        stop.next().await;
        printer.note("capfile: stopping the local file service (Ctrl-C again stops it at once)");
        tokio::select! {
            () = service.shutdown() => Ok(Exit::Success),
            () = stop.next() => {
                printer.note("capfile: stopped at once; uploads in flight were cut");
                Ok(Exit::Interrupted)
            }
        }
    })
}

/// The emulator's configuration from the flags and the environment's
/// secrets, and the `CAPFILE_PASSWORD=...` the start message shows (never a
/// password of the user's own).
fn emulator_config(
    args: &ServeArgs,
    data_dir: std::path::PathBuf,
    ctx: &super::Context,
) -> Result<(Config, String), Error> {
    let (env, printer) = (&ctx.env, &ctx.printer);
    let mut config = Config::new(data_dir);
    config.username = args.username.clone();
    let own_password = secret_from_env(env, PASSWORD_VAR)?;
    let password_line = match own_password {
        // The default is no secret (it is in the help); one of the user's own is never printed.
        Some(_) => format!("CAPFILE_PASSWORD=\"${PASSWORD_VAR}\""),
        None => format!("CAPFILE_PASSWORD={}", config.password),
    };
    config.password = own_password.unwrap_or(config.password);
    config.client_key = args.client_key.clone();
    config.client_secret = secret_from_env(env, CLIENT_SECRET_VAR)?.unwrap_or(config.client_secret);
    config.token_ttl = Duration::from_secs(args.token_ttl);
    config.url_ttl = Duration::from_secs(args.url_ttl);
    config.public_url = args.public_url.clone();
    config.faults = Faults {
        fail_rate: args.fail_rate,
        fail_status: args.fail_status,
        retry_after: args.retry_after,
        latency: Duration::from_millis(args.latency_ms),
        drop_rate: args.drop_rate,
        rate_limit: args
            .rate_limit
            .map(|rate| RateLimit::new(rate.requests, rate.period, args.rate_limit_retry_after)),
        error_shape: args.error_shape,
        expired_token_498: args.expired_token_498,
        max_upload_bytes: args.max_upload_bytes,
    };
    if matches!(printer.verbosity(), Verbosity::Verbose(_)) {
        let printer = Arc::clone(printer);
        config.log = Some(Arc::new(move |request: &RequestLog| {
            printer.detail(1, &request_line(request));
        }));
    }
    Ok((config, password_line))
}

/// `serve -v`'s line for one request:
/// `POST /api_gateway/file-service/rewards/a.png 503 in 2 ms (fault: fail) id 0f3c...`.
fn request_line(request: &RequestLog) -> String {
    let status = request
        .status
        .map_or_else(|| "no answer".to_string(), |status| status.to_string());
    let fault = request.fault.map(|f| format!(" (fault: {f})")).unwrap_or_default();
    format!(
        "{} {} {status} in {} ms{fault} id {}",
        request.method,
        request.path,
        request.elapsed.as_millis(),
        request.request_id
    )
}

/// A secret from the environment: `None` when unset; an empty or non-UTF-8
/// value is refused rather than turned into an empty password.
fn secret_from_env(env: &Env, variable: &'static str) -> Result<Option<String>, ServeError> {
    match env.get_os(variable).map(|value| value.to_str()) {
        None => Ok(None),
        Some(Some("")) => Err(ServeError::EmptySecret { variable }),
        Some(Some(value)) => Ok(Some(value.to_string())),
        Some(None) => Err(ServeError::SecretNotText { variable }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_names_method_path_status_time_and_fault() {
        let mut request = RequestLog {
            method: "POST".into(),
            path: "/api_gateway/file-service/rewards/a.png".into(),
            status: Some(503),
            elapsed: Duration::from_millis(7),
            fault: Some("fail"),
            request_id: "r-1".into(),
        };
        assert_eq!(
            request_line(&request),
            "POST /api_gateway/file-service/rewards/a.png 503 in 7 ms (fault: fail) id r-1"
        );
        request.status = None;
        request.fault = Some("drop");
        assert_eq!(
            request_line(&request),
            "POST /api_gateway/file-service/rewards/a.png no answer in 7 ms (fault: drop) id r-1"
        );
    }

    #[test]
    fn refused_flags_are_usage_errors_and_a_failed_start_a_failure_with_its_hint() {
        let addr: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let refused = [
            ServeError::NotLoopback { addr },
            ServeError::BadShare {
                flag: "--drop-rate",
                share: 1.5,
            },
            ServeError::BadStatus { status: 42 },
            ServeError::EmptySecret { variable: PASSWORD_VAR },
            ServeError::SecretNotText {
                variable: CLIENT_SECRET_VAR,
            },
        ];
        for err in refused {
            assert_eq!(Error::from(err).exit(), Exit::Usage);
        }
        let err = Error::from(ServeError::NotLoopback { addr });
        assert_eq!(
            err.message(),
            "--addr 0.0.0.0:8080: not a loopback address; the service's default credentials are public"
        );
        assert!(err.hint().unwrap().starts_with("add --public"));
        let share = ServeError::BadShare {
            flag: "--fail-rate",
            share: 1.5,
        };
        assert_eq!(share.to_string(), "--fail-rate: 1.5 is not a share between 0 and 1");
        let start = |kind| {
            Error::from(ServeError::Start {
                addr,
                source: io::Error::new(kind, "taken"),
            })
        };
        let busy = start(io::ErrorKind::AddrInUse);
        assert_eq!(busy.exit(), Exit::Failure);
        assert_eq!(busy.message(), "cannot serve on 0.0.0.0:8080: taken");
        assert!(busy.hint().unwrap().starts_with("another program listens there"));
        assert!(std::error::Error::source(&busy).is_some());
        assert!(start(io::ErrorKind::ResourceBusy).hint().unwrap().contains("--data"));
        assert_eq!(start(io::ErrorKind::Other).hint(), None);
    }
}
