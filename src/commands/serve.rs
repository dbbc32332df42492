//! `capfile serve`: run the local file service until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::ServeArgs;
use crate::emulator::{self, Config, Emulator, Faults, RateLimit};
use crate::error::{Error, Exit};
use crate::output::Printer;

pub fn run(args: ServeArgs, printer: &Arc<Printer>) -> Result<Exit, Error> {
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
    let config = Config {
        data_dir: data_dir.clone(),
        username: args.username,
        password: args.password,
        client_key: args.client_key,
        client_secret: args.client_secret,
        token_ttl: Duration::from_secs(args.token_ttl),
        url_ttl: Duration::from_secs(args.url_ttl),
        public_url: args.public_url,
        faults: Faults {
            fail_rate: args.fail_rate,
            fail_status: args.fail_status,
            retry_after: args.retry_after,
            latency: Duration::from_millis(args.latency_ms),
            drop_rate: args.drop_rate,
            rate_limit: args
                .rate_limit
                .map(|rate| RateLimit::new(rate.requests, rate.period, args.rate_limit_retry_after)),
        },
    };
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let service = Emulator::start(args.addr, config)
            .await
            .map_err(|e| Error::failure(format!("cannot serve on {}: {e}", args.addr)))?;
        printer.note(&format!(
            "capfile: local file service at {} (data in {}); Ctrl-C stops it",
            service.base_url(),
            data_dir.display()
        ));
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| Error::failure(format!("cannot wait for Ctrl-C: {e}")))?;
        printer.note("capfile: stopping the local file service");
        service.shutdown().await;
        Ok(Exit::Success)
    })
}
