//! `capfile upload`: check every input, then stream them to the file service.
//!
//! `run` follows this order, one named step each, and only the last sends
//! anything:
//! 1. `resolve` the settings (flags, environment, profile), refusing to
//!    start when standard output already cannot take the results, then the
//!    upload policy and the inputs named;
//! 2. install the Ctrl-C handler, then `collect`: check every input,
//!    spooling standard input to a temporary file (one bad input refuses the
//!    whole batch);
//! 3. find the base URL, `open_records` (`--report`, `--manifest` and the
//!    plan), and only then `connect`: look up the credentials (without a URL
//!    there is nowhere a secret could go) and build the client;
//! 4. for `--dry-run`, list the plan (`DryRun`) instead;
//! 5. `send`: with `--local`, start the local file service unless one
//!    already listens; then upload the batch, and stop that service again.
//!
//! Sending the batch (order of results, failures, the summary that decides
//! the exit code) is in `send`; the bookkeeping it shares with `--report` and
//! `--retry-from`, which never touches the network, is in `crate::batch`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::{FileService, Route};
use crate::batch::report::ReportError;
use crate::batch::{Binding, ReportWriter, read_report};
use crate::cli::UploadArgs;
use crate::credentials::{self, Credentials};
use crate::emulator;
use crate::error::{Error, Exit};
use crate::inputs;
use crate::interrupt::{Interrupts, Signals};
use crate::manifest::{self, LockWait, Manifest, Policy};
use crate::output::{self, Printer};
use crate::settings::OutputFormat;
use crate::settings::{self, Key};

mod dry_run;
mod local;
mod plan;
mod send;

use plan::Plan;
use send::{Batch, Whose};

/// Runs `capfile upload`.
pub(crate) fn run(args: UploadArgs, ctx: &super::Context) -> Result<Exit, Error> {
    let mut resolved = resolve(&args, ctx)?;
    // One thread for a client; the emulator of `--local`, when started
    // inside the command, serves from the same runtime.
    let threads = match args.local {
        true => super::Threads::PerCpu,
        false => super::Threads::One,
    };
    // Ctrl-C is handled from here on, before standard input is spooled to a
    // temporary file: an interrupted spool is deleted, and the command exits
    // 130 without sending anything.
    let runtime = super::runtime(threads)?;
    // SIGTERM and SIGHUP stop it the same way (exit 143 or 129).
    let mut interrupts = Interrupts::install(Signals::Any)?;
    let mut stdin = stdin_of(&resolved.files, &interrupts, &ctx.printer);
    // Which local service, before anything is read or sent: a listener that
    // is not capfile's emulator is refused here.
    let local = match args.local {
        true => Some(runtime.block_on(local::find(&ctx.env, &ctx.printer))?),
        false => None,
    };
    if let Some(local) = &local {
        resolved.settings.use_local(local.url());
    }
    let files = std::mem::take(&mut resolved.files);
    let inputs = match collect(&args, &resolved, files, &mut stdin, &interrupts, &ctx.printer)? {
        Ok(inputs) => inputs,
        Err(exit) => return Ok(exit),
    };
    // Before any secret is looked up: without a URL there is nowhere to send one.
    let Some(base_url) = resolved.settings.base_url.clone() else {
        return Err(Error::NoBaseUrl);
    };
    let (report, plan) = open_records(
        &args,
        &resolved,
        &base_url.value,
        &runtime,
        &mut interrupts,
        &ctx.printer,
    )?;
    let (service, credentials, whose) = connect(&args, ctx, &resolved, &base_url)?;
    if args.dry_run {
        let run = DryRun {
            service: &service,
            credentials: &credentials,
            whose: &whose,
            inputs: &inputs,
            plan: &plan,
        };
        return run.list(&resolved.settings, &runtime, &interrupts, &ctx.printer);
    }
    let batch = Batch {
        service,
        inputs,
        namespace: resolved.settings.namespace.value.clone(),
        format: resolved.settings.body.value,
        output: resolved.settings.output.value,
        jobs: resolved.settings.jobs.value,
        jobs_max: resolved.settings.jobs_max.value.into(),
        show_progress: !args.no_progress,
        binding: binding(
            &resolved.profile.name,
            &base_url.value,
            &resolved.settings.namespace.value,
        ),
        report,
        plan,
        whose,
    };
    runtime.block_on(send(batch, local, interrupts, &ctx.printer))
}

/// What the flags, the environment, the profile and the upload policy
/// resolve to, before any input is read.
struct Resolved {
    profile: crate::config_file::Profile,
    settings: settings::Settings,
    /// The transforms, when there are any.
    fit: Option<Arc<crate::transform::Settings>>,
    /// The inputs named, then those listed with --files-from.
    files: Vec<std::path::PathBuf>,
    options: inputs::Options,
}

/// Resolves the settings, refusing to start when standard output already
/// cannot take the results, then the upload policy (checked against the
/// config file before any input) and the inputs named.
fn resolve(args: &UploadArgs, ctx: &super::Context) -> Result<Resolved, Error> {
    let printer = &ctx.printer;
    let flags = settings::Flags {
        base_url: args.base_url.clone(),
        namespace: args.namespace.clone(),
        jobs: args.jobs.clone(),
        jobs_max: args.jobs_max,
        http: args.http,
        retries: args.retries,
        timeout: args.timeout,
        rate: args.rate.clone(),
        rate_wait: args.max_rate_wait,
        output: args.output.or(args.json.then_some(OutputFormat::Json)),
        body: args.body,
        manifest: args.manifest.clone(),
        ca_bundle: args.cacert.clone(),
        policy: args.policy.clone(),
        ..settings::Flags::default()
    };
    let (profile, settings) = ctx.settings(&flags)?;
    if let Some(cause) = printer.stdout_failure() {
        return Err(Error::ResultsWouldBeLost { cause });
    }
    let image_policy = crate::policy::select(ctx.config()?, &profile.name, &settings)?;
    if let Some(policy) = &image_policy {
        printer.detail(1, &format!("policy: {}", policy.name));
    }
    let fit = crate::transform::Settings::resolve(image_policy.as_ref(), &(&args.transforms).into());
    let fit = fit.is_active().then(|| Arc::new(fit));
    let files = inputs::with_listed(&args.files, args.files_from.as_deref(), args.null)?;
    let options = inputs::Options {
        name: args.name.clone(),
        placeholder: args.placeholder,
        recursive: args.recursive,
        allow_any_type: args.allow_any_type,
        name_from_path: args.name_from_path,
        policy: image_policy.map(Arc::new),
        transform: fit.clone(),
    };
    Ok(Resolved {
        profile,
        settings,
        fit,
        files,
        options,
    })
}

/// Checks every input (those of `--retry-from`, or `files`), spooling
/// standard input to a temporary file. `Ok(Err(exit))`: the command ends
/// here, said already (nothing to retry, a bad input, a signal).
fn collect(
    args: &UploadArgs,
    resolved: &Resolved,
    files: Vec<std::path::PathBuf>,
    stdin: &mut dyn std::io::Read,
    interrupts: &Interrupts,
    printer: &Printer,
) -> Result<Result<inputs::Inputs, Exit>, Error> {
    let collected = match &args.retry_from {
        Some(report) => {
            let Some(base_url) = &resolved.settings.base_url else {
                return Err(Error::NoBaseUrl);
            };
            let namespace = &resolved.settings.namespace.value;
            let binding = binding(&resolved.profile.name, &base_url.value, namespace);
            match retry_inputs(report, &binding, &resolved.options, printer)? {
                Some(collected) => collected,
                None => return Ok(Err(Exit::Success)),
            }
        }
        None => {
            inputs::collect(files, &resolved.options, stdin).map_err(|errs| errs.into_iter().map(Error::from).collect())
        }
    };
    if interrupts.fired() {
        printer.error(&Error::interrupted());
        printer.note("nothing was uploaded");
        return Ok(Err(Exit::Interrupted));
    }
    match collected {
        Ok(inputs) => {
            tell_skipped(&inputs.skipped, printer);
            Ok(Ok(inputs))
        }
        Err(errors) => {
            for err in &errors {
                printer.error(err);
            }
            printer.note("nothing was uploaded");
            Ok(Err(Exit::Usage))
        }
    }
}

/// Standard input, when an input is `-` (a signal ends reading it).
fn stdin_of(files: &[std::path::PathBuf], interrupts: &Interrupts, printer: &Printer) -> Box<dyn std::io::Read> {
    if !files.iter().any(|f| f.as_os_str() == "-") {
        return Box::new(std::io::empty());
    }
    // On a terminal, silence would look like a hang.
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        printer.note("reading the image from standard input (a terminal): end it with Ctrl-D, or Ctrl-C to stop");
    }
    Box::new(interrupts.stdin())
}

/// Opens `--report` and then `--manifest` (locked), before any secret is
/// looked up or anything sent: a report that cannot be written, or a
/// manifest of another host, namespace or body format, refuses the batch
/// (exit 2). Waiting for another run's lock, and parsing, end at a signal.
/// Returns the report and the plan.
fn open_records(
    args: &UploadArgs,
    resolved: &Resolved,
    base_url: &url::Url,
    runtime: &tokio::runtime::Runtime,
    interrupts: &mut Interrupts,
    printer: &Arc<Printer>,
) -> Result<(Option<ReportWriter>, Plan), Error> {
    let settings = &resolved.settings;
    let report = args.report.as_deref().map(ReportWriter::create).transpose()?;
    let manifest = match &settings.manifest {
        Some(path) => {
            let open = open_manifest(path.value.clone().into(), base_url, settings, printer);
            Some(interrupts.blocking_or_interrupt(runtime, open)??)
        }
        None => None,
    };
    if manifest.is_none() && (args.force || args.no_refresh) {
        let flag = if args.force { "--force" } else { "--no-refresh" };
        return Err(Error::NeedsManifest { flag });
    }
    let policy = Policy {
        force: args.force,
        refresh_expired: !args.no_refresh,
    };
    let manifest = manifest.map(|m| Arc::new(Mutex::new(m)));
    Ok((report, Plan::new(manifest, policy, resolved.fit.clone())))
}

/// Looks up the credentials (the emulator's with `--local`), says with -v
/// what was resolved and from where, and builds the file service's client.
fn connect(
    args: &UploadArgs,
    ctx: &super::Context,
    resolved: &Resolved,
    base_url: &settings::Setting<url::Url>,
) -> Result<(FileService, Credentials, Whose), Error> {
    let (printer, profile, settings) = (&ctx.printer, &resolved.profile, &resolved.settings);
    let (credentials, source) = if args.local {
        let credentials = Credentials::Basic {
            username: emulator::DEFAULT_USERNAME.to_string(),
            password_md5: credentials::md5_hex(emulator::DEFAULT_PASSWORD),
        };
        (credentials, None)
    } else {
        let resolved = super::resolve_credentials(ctx, profile, settings, base_url)?;
        printer.detail(1, &format!("secret: from {}", resolved.source));
        (resolved.credentials, Some(resolved.source))
    };
    let whose = (profile.name.clone(), source);
    printer.detail(1, &format!("profile: {} ({})", profile.name, profile.origin));
    for key in Key::ALL {
        if let Some((value, origin)) = settings.get(key) {
            printer.detail(1, &format!("{}: {value} ({origin})", key.name()));
        }
    }
    let route = Route::for_base_url(&base_url.value, &ctx.env)
        .map_err(Error::BadProxy)?
        .with_ca_bundle(settings.ca_bundle.as_ref().map(|s| std::path::Path::new(&s.value)))
        .with_http(settings.http.value);
    printer.detail(1, &route.describe());
    let timeout = Duration::from_secs(settings.timeout.value);
    let service = FileService::new(
        base_url.value.clone(),
        &credentials,
        timeout,
        settings.retries.value,
        route,
    )
    .map_err(Error::Client)?
    .with_pacing(
        settings.rate.as_ref().map(|rate| rate.value),
        Duration::from_secs(settings.rate_wait.value),
    )
    .with_trace(printer.clone());
    Ok((service, credentials, whose))
}

/// `--dry-run`: what would be sent, and what was checked.
struct DryRun<'a> {
    service: &'a FileService,
    credentials: &'a Credentials,
    whose: &'a Whose,
    inputs: &'a inputs::Inputs,
    plan: &'a Plan,
}

impl DryRun<'_> {
    /// Checks the credentials as far as that sends no file, then lists the
    /// plan; nothing is recorded (the manifest is dropped as it was).
    fn list(
        &self,
        settings: &settings::Settings,
        runtime: &tokio::runtime::Runtime,
        interrupts: &Interrupts,
        printer: &Printer,
    ) -> Result<Exit, Error> {
        let listing = dry_run::Listing::new(printer, settings.output.value);
        let url = |input: &inputs::Input| self.service.upload_url(&settings.namespace.value, &input.remote);
        let checked = runtime.block_on(dry_run::check_credentials(self.service, self.credentials, self.whose))?;
        let Some(sent) = dry_run::list(self.inputs, self.plan, &listing, interrupts, url) else {
            printer.error(&Error::interrupted());
            printer.note("nothing was uploaded");
            return Ok(Exit::Interrupted);
        };
        Ok(dry_run::close(printer, self.inputs.len(), sent, checked))
    }
}

/// Uploads the batch, with `--local` inside a local file service started for
/// it (unless one already listened), then writes the manifest, also after
/// Ctrl-C or a fail-fast stop: what finished is kept.
async fn send(
    batch: Batch,
    local: Option<local::Local>,
    mut interrupts: Interrupts,
    printer: &Arc<Printer>,
) -> Result<Exit, Error> {
    let local = match local {
        Some(local::Local::Start(addr)) => Some(local::start(addr, printer).await?),
        _ => None,
    };
    let kept = batch.plan.manifest().cloned();
    let mut exit = batch.run(printer, interrupts.next()).await;
    if let Some(kept) = kept
        && let Err(err) = finish_manifest(kept)
    {
        printer.error(&err);
        if exit == Exit::Success {
            exit = Exit::Failure;
        }
    }
    if let Some(local) = local {
        local.shutdown().await;
        printer
            .note("note: the local file service ran inside this command; run `capfile serve` to fetch the secure URLs");
    }
    Ok(exit)
}

/// Says what `-r` passed over: how many and why, and each one with -v.
fn tell_skipped(skipped: &inputs::Skipped, printer: &Printer) {
    let Some(summary) = skipped.summary() else { return };
    let listed = skipped.first.len() as u64;
    let more = skipped.total() - listed;
    if matches!(printer.verbosity(), output::Verbosity::Verbose(_)) {
        printer.note(&summary);
    } else {
        printer.note(&format!("{summary} (-v lists them)"));
    }
    for (path, why) in &skipped.first {
        printer.detail(
            1,
            &format!("skipped {}: {why}", output::quote_path(&path.to_string_lossy())),
        );
    }
    if more > 0 {
        printer.detail(1, &format!("and {more} more"));
    }
}

/// How long a run waits for another run's lock on the same manifest.
const MANIFEST_LOCK_WAIT: Duration = Duration::from_secs(10 * 60);

/// The work of opening and locking `--manifest FILE` for this base URL,
/// namespace and body format, saying so once if another run holds it and
/// this one waits: run by [`Interrupts::blocking_or_interrupt`], so that a
/// signal ends the wait (the lock file is left in place by design, and the
/// lock itself dies with the process).
fn open_manifest(
    path: std::path::PathBuf,
    base_url: &url::Url,
    settings: &settings::Settings,
    printer: &Arc<Printer>,
) -> impl FnOnce() -> Result<Manifest, Error> + Send + 'static {
    let binding = manifest::Binding::new(
        base_url,
        &settings.namespace.value,
        &settings::choice_name(&settings.body.value),
    );
    let printer = Arc::clone(printer);
    move || open_manifest_now(&path, &binding, &printer)
}

fn open_manifest_now(
    path: &std::path::Path,
    binding: &manifest::Binding,
    printer: &Printer,
) -> Result<Manifest, Error> {
    let mut notice = || {
        printer.note(&format!(
            "waiting for {}: another capfile run uses this manifest (up to {} minutes)",
            path.display(),
            MANIFEST_LOCK_WAIT.as_secs() / 60
        ));
    };
    Ok(Manifest::open_with_notice(
        path,
        binding,
        LockWait::Wait(MANIFEST_LOCK_WAIT),
        &mut notice,
    )?)
}

/// Writes the manifest and releases its lock.
fn finish_manifest(manifest: Arc<Mutex<Manifest>>) -> Result<(), Error> {
    match Arc::try_unwrap(manifest) {
        Ok(manifest) => Ok(manifest.into_inner().unwrap_or_else(|p| p.into_inner()).finish()?),
        // Still shared (cannot happen once the batch has ended): the journal
        // is left, and the next run folds it in.
        Err(_) => Ok(()),
    }
}

/// The service a run's records are bound to.
fn binding(profile: &str, base_url: &url::Url, namespace: &str) -> Binding {
    Binding {
        profile: Some(profile.to_string()),
        origin: settings::origin_of(base_url),
        namespace: namespace.to_string(),
    }
}

/// Checked inputs, or every problem found with them.
type Collected = Result<inputs::Inputs, Vec<Error>>;

/// The inputs `--retry-from REPORT` sends again, checked like any input, each
/// under its recorded remote name. `Ok(None)`: nothing to retry (said).
fn retry_inputs(
    report: &std::path::Path,
    binding: &Binding,
    options: &inputs::Options,
    printer: &Printer,
) -> Result<Option<Collected>, Error> {
    let plan = read_report(report, binding)?;
    if plan.retry.is_empty() {
        printer.note(&format!(
            "nothing to retry: the {} input(s) in {} were uploaded already",
            plan.done,
            report.display()
        ));
        return Ok(None);
    }
    let mut found = inputs::Inputs::default();
    let mut errors = Vec::new();
    for retry in &plan.retry {
        if retry.input.as_os_str() == "-" {
            errors.push(
                ReportError::StdinNotRetried {
                    path: report.to_path_buf(),
                    name: retry.name.clone(),
                }
                .into(),
            );
            continue;
        }
        let options = inputs::Options {
            name: Some(retry.name.clone()),
            recursive: false,
            ..options.clone()
        };
        match inputs::collect(vec![retry.input.clone()], &options, &mut std::io::empty()) {
            Ok(inputs) => {
                if let Err(err) = found.append(inputs) {
                    errors.push(err.into());
                }
            }
            Err(errs) => errors.extend(errs.into_iter().map(Error::from)),
        }
    }
    Ok(Some(if errors.is_empty() { Ok(found) } else { Err(errors) }))
}
