//! `capfile upload`: check every input, then stream them to the file service.
//!
//! The work runs in three steps, and only the last sends anything: resolve the
//! settings and credentials, check every input (one bad input refuses the whole
//! batch), then upload with up to `--jobs` requests in flight over one connection
//! pool. Results are printed in input order as soon as each one's predecessors
//! are done; failures are reported as they happen and summed up at the end, where
//! the exit code is decided.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::api::{ApiError, FileService, UploadJob, Uploaded};
use crate::cli::{BodyFormat, GlobalArgs, OutputFormat, UploadArgs};
use crate::config_file::Paths;
use crate::credentials::{self, Credentials};
use crate::emulator;
use crate::error::{Error, Exit, LOGIN_HINT};
use crate::inputs::{self, Input};
use crate::interrupt::{Interrupts, Signals};
use crate::output::{self, Printer, Row};
use crate::settings::{self, Key, Origin, Setting};

/// Runs `capfile upload`.
pub fn run(args: UploadArgs, global: &GlobalArgs, printer: &Arc<Printer>) -> Result<Exit, Error> {
    let flags = settings::Flags {
        base_url: args.base_url.clone(),
        namespace: args.namespace.clone(),
        jobs: args.jobs,
        retries: args.retries,
        timeout: args.timeout,
        rate: args.rate.clone(),
        rate_wait: args.max_rate_wait,
        output: args.output.or(args.json.then_some(OutputFormat::Json)),
        body: args.body,
        ..settings::Flags::default()
    };
    let paths = Paths::locate(global.config.as_deref())?;
    let (profile, mut settings) = super::effective_settings(&paths, global, &flags)?;
    if let Some(cause) = printer.stdout_failure() {
        return Err(Error::usage(format!("{cause}: the results would be lost"))
            .with_hint("send standard output to a file, a pipe or /dev/null"));
    }

    let options = inputs::Options {
        name: args.name.clone(),
        placeholder: args.placeholder,
        recursive: args.recursive,
        allow_any_type: args.allow_any_type,
    };
    // Ctrl-C is handled from here on, before standard input is spooled to a
    // temporary file: an interrupted spool is deleted, and the command exits
    // 130 without sending anything.
    let runtime = crate::runtime()?;
    let mut interrupts = Interrupts::install(&runtime, Signals::CtrlC)?;
    let mut stdin: Box<dyn std::io::Read> = if args.files.iter().any(|f| f.as_os_str() == "-") {
        Box::new(interrupts.stdin())
    } else {
        Box::new(std::io::empty())
    };
    let collected = inputs::collect(&args.files, &options, &mut stdin);
    if interrupts.fired() {
        printer.error(&Error::interrupted());
        printer.note("nothing was uploaded");
        return Ok(Exit::Interrupted);
    }
    let inputs = match collected {
        Ok(inputs) => inputs,
        Err(errors) => {
            for err in &errors {
                printer.error(err);
            }
            printer.note("nothing was uploaded");
            return Ok(Exit::Usage);
        }
    };

    if args.local {
        settings.base_url = Some(Setting::new(local_url(), Origin::Local));
    }
    // Before any secret is looked up: without a URL there is nowhere to send one.
    let Some(base_url) = settings.base_url.clone() else {
        return Err(Error::usage("no base URL for the file service")
            .with_hint("pass --base-url or set CAPFILE_BASE_URL, e.g. https://eu.api.capillarytech.com"));
    };
    let credentials = if args.local {
        Credentials::Basic {
            username: emulator::DEFAULT_USERNAME.to_string(),
            password_md5: credentials::md5_hex(emulator::DEFAULT_PASSWORD),
        }
    } else {
        let resolved = super::resolve_credentials(&paths, &profile, &settings, &base_url, printer)?;
        printer.detail(1, &format!("secret: from {}", resolved.source));
        resolved.credentials
    };
    printer.detail(1, &format!("profile: {} ({})", profile.name, profile.origin));
    for key in Key::ALL {
        if let Some((value, origin)) = settings.get(key) {
            printer.detail(1, &format!("{}: {value} ({origin})", key.name()));
        }
    }

    let timeout = Duration::from_secs(settings.timeout.value);
    let service = FileService::new(base_url.value, &credentials, timeout, settings.retries.value)
        .map_err(Error::usage)?
        .with_pacing(
            settings.rate.as_ref().map(|rate| rate.value),
            Duration::from_secs(settings.rate_wait.value),
        );

    if args.dry_run {
        let mut text = String::new();
        for input in &inputs {
            text.push_str(&format!(
                "POST {}\t{} bytes\t{}\n",
                service.upload_url(&settings.namespace.value, &input.remote),
                input.size,
                if input.body_path().is_some() {
                    input.mime
                } else {
                    "(placeholder, no body)"
                }
            ));
        }
        printer.result(&text);
        printer.note(&format!("dry run: {} file(s) checked, nothing sent", inputs.len()));
        return Ok(Exit::Success);
    }

    runtime.block_on(async {
        let local = if args.local {
            ensure_local_service(printer).await?
        } else {
            None
        };
        let batch = Batch {
            service,
            inputs,
            namespace: settings.namespace.value.clone(),
            format: settings.body.value,
            output: settings.output.value,
            jobs: settings.jobs.value as usize,
            show_progress: !args.no_progress,
        };
        let exit = batch.run(printer, interrupts.next()).await;
        if let Some(local) = local {
            local.shutdown().await;
            printer.note(
                "note: the local file service ran inside this command; run `capfile serve` to fetch the secure URLs",
            );
        }
        Ok(exit)
    })
}

fn local_url() -> url::Url {
    // A socket address always makes a valid URL.
    url::Url::parse(&format!("http://{}", local_addr())).expect("a socket address is a valid URL")
}

/// Where `--local` finds or starts the file service: its default address, or
/// CAPFILE_LOCAL_ADDR (undocumented, for tests: so that they need not have
/// 127.0.0.1:7878 to themselves). A value that is not a socket address is
/// ignored.
fn local_addr() -> SocketAddr {
    std::env::var("CAPFILE_LOCAL_ADDR")
        .ok()
        .and_then(|addr| addr.parse().ok())
        .or_else(|| emulator::DEFAULT_ADDR.parse().ok())
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7878)))
}

/// Starts the emulator in this process unless something already listens on
/// its default address (a `capfile serve` in another terminal).
async fn ensure_local_service(printer: &Printer) -> Result<Option<emulator::Emulator>, Error> {
    let addr = local_addr();
    let probe = tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await;
    if matches!(probe, Ok(Ok(_))) {
        printer.detail(1, &format!("using the file service already listening at {addr}"));
        return Ok(None);
    }
    let data_dir = emulator::default_data_dir();
    let mut config = emulator::Config::new(data_dir.clone());
    // By the time it shuts down, this command's own uploads are over:
    // requests still in flight are another client's, and are not waited for.
    config.shutdown_grace = Duration::ZERO;
    let service = emulator::Emulator::start(addr, config)
        .await
        .map_err(|e| Error::failure(format!("cannot start the local file service at {addr}: {e}")))?;
    printer.detail(
        1,
        &format!(
            "started the local file service at {addr} (data in {})",
            data_dir.display()
        ),
    );
    Ok(Some(service))
}

/// One batch of checked inputs and how to send them.
struct Batch {
    service: FileService,
    inputs: Vec<Input>,
    namespace: String,
    format: BodyFormat,
    output: OutputFormat,
    jobs: usize,
    show_progress: bool,
}

/// What became of one input.
enum Outcome {
    Done(Uploaded),
    Failed(ApiError),
    /// Not attempted: the batch stopped first (credentials refused).
    Skipped,
}

/// Writes results to standard output in the chosen form. An aligned table is
/// held back until the end, since its widths depend on every row.
struct Results<'a> {
    printer: &'a Printer,
    format: OutputFormat,
    held_rows: Option<Vec<Row>>,
}

impl<'a> Results<'a> {
    fn new(printer: &'a Printer, format: OutputFormat) -> Self {
        let hold = format == OutputFormat::Table && printer.stdout_is_terminal();
        Results {
            printer,
            format,
            held_rows: hold.then(Vec::new),
        }
    }

    fn push(&mut self, done: &Uploaded) {
        let row = || Row {
            name: done.name.clone(),
            version: done.version.clone(),
            secure_url: done.secure_file_path.clone(),
        };
        let text = match self.format {
            OutputFormat::Table => match &mut self.held_rows {
                Some(rows) => {
                    rows.push(row());
                    return;
                }
                None => output::render_table(&[row()], false),
            },
            OutputFormat::Url => format!("{}\n", output::escape_control(&done.secure_file_path)),
            OutputFormat::Json if self.printer.stdout_is_terminal() => format!("{}\n", output::json_pretty(&done.raw)),
            OutputFormat::Json => format!("{}\n", output::json_compact(&done.raw)),
        };
        self.printer.result(&text);
    }

    fn finish(self) {
        if let Some(rows) = self.held_rows
            && !rows.is_empty()
        {
            self.printer.result(&output::render_table(&rows, true));
        }
    }
}

impl Batch {
    /// Runs the uploads until they are done or `interrupt` resolves.
    async fn run(self, printer: &Arc<Printer>, interrupt: impl Future<Output = ()>) -> Exit {
        let started = Instant::now();
        let stop = AtomicBool::new(false);
        let total = self.inputs.len();
        let mut outcomes: Vec<Option<Outcome>> = (0..total).map(|_| None).collect();
        let mut printed = 0;
        let mut results = Results::new(printer, self.output);
        let total_bytes = self.inputs.iter().map(|i| i.size).sum();
        let progress = printer.batch_progress(total as u64, total_bytes, self.show_progress);

        let uploads = futures_util::stream::iter(self.inputs.iter().enumerate())
            .map(|(index, input)| {
                let stop = &stop;
                let service = &self.service;
                let namespace = self.namespace.as_str();
                let format = self.format;
                let progress = &progress;
                async move {
                    if stop.load(Ordering::Relaxed) {
                        return (index, Outcome::Skipped);
                    }
                    let job = UploadJob {
                        namespace,
                        name: &input.remote,
                        body: input.body_path().map(|p| (p, input.size, input.mime)),
                        format,
                    };
                    let file_progress = Arc::new(progress.start_file(&input.label, input.size));
                    let result = service.upload(&job, file_progress).await;
                    progress.file_finished();
                    match result {
                        Ok(done) => (index, Outcome::Done(done)),
                        Err(err) => {
                            // Refused credentials will be refused for every file.
                            if err.is_auth() {
                                stop.store(true, Ordering::Relaxed);
                            }
                            (index, Outcome::Failed(err))
                        }
                    }
                }
            })
            .buffer_unordered(self.jobs.max(1));
        let mut uploads = Box::pin(uploads);
        tokio::pin!(interrupt);
        let mut interrupted = false;

        loop {
            let next = tokio::select! {
                next = uploads.next() => next,
                _ = &mut interrupt => { interrupted = true; None }
            };
            let Some((index, outcome)) = next else { break };
            let input = &self.inputs[index];
            match &outcome {
                // On a terminal the bars show this; a line per file is for logs.
                Outcome::Done(done) if self.show_progress && !progress.draws_bars() => printer.note(&format!(
                    "uploaded {} ({}) as version {}",
                    input.label,
                    output::human_bytes(input.size),
                    done.version
                )),
                Outcome::Failed(err) => printer.error(&Error::failure(format!("{}: {err}", input.label))),
                _ => {}
            }
            outcomes[index] = Some(outcome);
            // Print every result whose predecessors are all done, in input order.
            while printed < total
                && let Some(outcome) = &outcomes[printed]
            {
                if let Outcome::Done(done) = outcome {
                    results.push(done);
                }
                printed += 1;
            }
        }
        // On Ctrl-C this cancels the uploads still in flight and closes their
        // connections, so the service stores none of them.
        drop(uploads);
        progress.finish();
        // Finished uploads behind an unfinished one are still reported, in order.
        for outcome in outcomes.iter().skip(printed).flatten() {
            if let Outcome::Done(done) = outcome {
                results.push(done);
            }
        }
        results.finish();
        self.summarize(&outcomes, interrupted, started.elapsed(), printer)
    }

    fn summarize(&self, outcomes: &[Option<Outcome>], interrupted: bool, elapsed: Duration, printer: &Printer) -> Exit {
        let mut done = 0;
        let mut bytes = 0;
        let mut failed = Vec::new();
        let mut not_sent = Vec::new();
        let mut auth_failed = false;
        for (input, outcome) in self.inputs.iter().zip(outcomes) {
            match outcome {
                Some(Outcome::Done(_)) => {
                    done += 1;
                    bytes += input.size;
                }
                Some(Outcome::Failed(err)) => {
                    auth_failed |= err.is_auth();
                    failed.push(format!("{} ({err})", input.label));
                }
                Some(Outcome::Skipped) | None => not_sent.push(input.label.as_str()),
            }
        }
        let total = self.inputs.len();
        printer.note(&format!(
            "uploaded {done} of {total} file(s), {} in {:.1} s",
            output::human_bytes(bytes),
            elapsed.as_secs_f64()
        ));
        let (limited, paused) = self.service.rate_limit_totals();
        if limited > 0 {
            printer.note(&format!(
                "rate limit: the service answered 429 {limited} time(s); uploads waited {:.1} s for it",
                paused.as_secs_f64()
            ));
        }
        if !failed.is_empty() {
            printer.note(&format!("failed: {}", failed.join(", ")));
        }
        if !not_sent.is_empty() {
            printer.note(&format!("not uploaded: {}", not_sent.join(", ")));
        }
        if auth_failed {
            printer.error(&Error::auth("the file service refused the credentials").with_hint(LOGIN_HINT));
        }
        if interrupted {
            Exit::Interrupted
        } else if failed.is_empty() && not_sent.is_empty() {
            Exit::Success
        } else if auth_failed && done == 0 {
            Exit::Auth
        } else if done == 0 {
            Exit::Failure
        } else {
            Exit::Partial
        }
    }
}
