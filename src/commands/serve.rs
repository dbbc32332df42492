//! `capfile serve`: run the local file service until Ctrl-C or SIGTERM.
//!
//! Its secrets come from the environment only (there are no `--password` or
//! `--client-secret` flags): a flag's value is visible to every user of the
//! machine in `ps`. And it listens on loopback unless told
//! otherwise with `--public`, since its default credentials are published.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::ServeArgs;
use crate::emulator::{self, Config, Emulator, Faults, RateLimit, RequestLog};
use crate::error::{Error, Exit};
use crate::interrupt::{Interrupts, Signals};
use crate::output::{Printer, Verbosity};
use crate::settings::Env;

/// The variable that sets the Basic-auth password the service accepts.
const PASSWORD_VAR: &str = "CAPFILE_SERVE_PASSWORD";
/// The variable that sets the OAuth client secret the service accepts.
const CLIENT_SECRET_VAR: &str = "CAPFILE_SERVE_CLIENT_SECRET";

pub fn run(args: ServeArgs, env: &Env, printer: &Arc<Printer>) -> Result<Exit, Error> {
    if !args.addr.ip().is_loopback() && !args.public {
        return Err(Error::usage(format!(
            "--addr {}: not a loopback address; the service's default credentials are public",
            args.addr
        ))
        .with_hint("add --public to serve on it anyway, e.g. inside a container or a private network"));
    }
    for (flag, share) in [("--fail-rate", args.fail_rate), ("--drop-rate", args.drop_rate)] {
        if !(0.0..=1.0).contains(&share) {
            return Err(Error::usage(format!("{flag}: {share} is not a share between 0 and 1")));
        }
    }
    if !(100..=599).contains(&args.fail_status) {
        return Err(Error::usage(format!(
            "--fail-status: {} is not an HTTP status",
            args.fail_status
        )));
    }
    let data_dir = args.data.clone().unwrap_or_else(emulator::default_data_dir);
    let mut config = Config::new(data_dir.clone());
    config.username = args.username;
    config.password = secret_from_env(env, PASSWORD_VAR)?.unwrap_or(config.password);
    config.client_key = args.client_key;
    config.client_secret = secret_from_env(env, CLIENT_SECRET_VAR)?.unwrap_or(config.client_secret);
    config.token_ttl = Duration::from_secs(args.token_ttl);
    config.url_ttl = Duration::from_secs(args.url_ttl);
    config.public_url = args.public_url;
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
    };
    if matches!(printer.verbosity(), Verbosity::Verbose(_)) {
        let printer = Arc::clone(printer);
        config.log = Some(Arc::new(move |request: &RequestLog| {
            printer.detail(1, &request_line(request));
        }));
    }
    let runtime = crate::runtime()?;
    let mut stop = Interrupts::install(&runtime, Signals::CtrlCOrTerminate)?;
    runtime.block_on(async {
        let service = Emulator::start(args.addr, config).await.map_err(|e| {
            let err = Error::failure(format!("cannot serve on {}: {e}", args.addr));
            match e.kind() {
                std::io::ErrorKind::ResourceBusy => {
                    err.with_hint("give this one a data directory of its own with --data")
                }
                std::io::ErrorKind::AddrInUse => err.with_hint(
                    "another program listens there: pick another port, or let the system pick a free one with --addr 127.0.0.1:0",
                ),
                _ => err,
            }
        })?;
        printer.note(&format!(
            "capfile: local file service at {} (data in {}); Ctrl-C stops it",
            service.base_url(),
            data_dir.display()
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
fn secret_from_env(env: &Env, var: &str) -> Result<Option<String>, Error> {
    match env.get_os(var).map(|value| value.to_str()) {
        None => Ok(None),
        Some(Some("")) => Err(Error::usage(format!("{var} is set but empty"))),
        Some(Some(value)) => Ok(Some(value.to_string())),
        Some(None) => Err(Error::usage(format!("{var} is not valid UTF-8"))),
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
}
