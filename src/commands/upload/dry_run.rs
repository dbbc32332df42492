//! `upload --dry-run`: the plan of what would be sent, and what was checked.
//!
//! The plan goes where its format says. With `-o records` or `--json`, one
//! JSON object per input on standard output, so a script reads the plan as
//! it reads results (`| jq`); with the table or `-o url`, standard output is
//! kept for results, so the plan is told on standard error. Credentials are
//! checked as far as they can be without sending a file: an OAuth key and
//! secret against the token endpoint; a Basic password only an upload checks,
//! and the closing line says so.

use serde_json::json;

use super::batch::Whose;
use crate::api::FileService;
use crate::credentials::Credentials;
use crate::error::{Error, Exit};
use crate::inputs::{Input, Inputs};
use crate::interrupt::Interrupts;
use crate::manifest::{ContentHasher, Decision, Manifest, Policy, Reason, hash_file};
use crate::output::{self, Printer};
use crate::settings::OutputFormat;

/// Where the plan's lines go, and in which form.
pub(super) struct Plan<'a> {
    printer: &'a Printer,
    json: bool,
}

impl<'a> Plan<'a> {
    pub(super) fn new(printer: &'a Printer, format: OutputFormat) -> Plan<'a> {
        Plan {
            printer,
            json: matches!(format, OutputFormat::Records | OutputFormat::Json),
        }
    }

    /// One input that would be sent to `url`, and why (`None`: no manifest).
    fn upload(&self, input: &Input, url: &str, reason: Option<Reason>) {
        let mime = input.body_path().map(|_| input.mime);
        if self.json {
            self.json_line(json!({
                "dry_run": true,
                "action": "upload",
                "reason": reason.map(Reason::as_str),
                "input": input.label(),
                "name": input.remote.as_str(),
                "url": url,
                "bytes": input.size,
                "content_type": mime,
            }));
            return;
        }
        // Columns two spaces apart: the line goes to a person, and a tab
        // would be escaped on standard error.
        let line = output::dry_run_line(url, input.size, mime)
            .trim_end()
            .replace('\t', "  ");
        match reason {
            Some(reason) => self.printer.essential(&format!("{} {line}", reason.as_str())),
            None => self.printer.essential(&line),
        }
    }

    /// One input the manifest would skip, with its recorded version.
    fn skip(&self, input: &Input, version: &str, expired: bool) {
        if self.json {
            self.json_line(json!({
                "dry_run": true,
                "action": "skip",
                "reason": "unchanged",
                "input": input.label(),
                "name": input.remote.as_str(),
                "version": version,
                "url_expired": expired,
            }));
            return;
        }
        let expired = if expired { " (URL expired)" } else { "" };
        self.printer.essential(&format!(
            "skip {}  unchanged, version {version}{expired}",
            output::escape_control(input.remote.as_str())
        ));
    }

    fn json_line(&self, value: serde_json::Value) {
        self.printer.result(&format!("{value}\n"));
    }
}

/// Checks what can be checked of `credentials` without sending a file, and
/// says what that was.
pub(super) async fn check_credentials(
    service: &FileService,
    credentials: &Credentials,
    whose: &Whose,
) -> Result<&'static str, Error> {
    match credentials {
        Credentials::OAuth { .. } => match service.check_credentials().await {
            Ok(()) => Ok("the token endpoint gave a token for the client key and secret"),
            Err(source) if source.is_auth() => Err(Error::CredentialsRefused {
                profile: whose.0.clone(),
                source: whose.1.clone(),
            }),
            Err(source) => Err(Error::Upload {
                label: "the credentials check".to_string(),
                source,
            }),
        },
        Credentials::Basic { .. } => Ok("the Basic password was not checked (only an upload checks it)"),
    }
}

/// The plan without a manifest: every input would be sent.
pub(super) fn plan_all(inputs: &Inputs, plan: &Plan, url: impl Fn(&Input) -> String) -> usize {
    for input in inputs.iter() {
        plan.upload(&input, &url(&input), None);
    }
    inputs.len()
}

/// The plan with a manifest: the request each input would send and why
/// (`new`, `changed`, `expired`, `forced`), or `skip` and its recorded
/// version. Returns how many would be sent, or `None` when a signal stopped
/// it (checked before each input: hashing a batch of large files takes a
/// while).
pub(super) fn plan_with_manifest(
    inputs: &Inputs,
    manifest: &Manifest,
    policy: Policy,
    plan: &Plan,
    interrupts: &Interrupts,
    url: impl Fn(&Input) -> String,
) -> Option<usize> {
    let now = time::OffsetDateTime::now_utc();
    let mut sent = 0;
    for input in inputs.iter() {
        if interrupts.fired() {
            return None;
        }
        let name = input.remote.as_str();
        let mut decision = manifest.decide(name, input.size, None, now, policy);
        if decision == Decision::HashFirst {
            let hash = match input.body_path() {
                Some(path) => hash_file(&path).ok().map(|(hash, _)| hash),
                None => Some(ContentHasher::new().finish().0),
            };
            decision = match hash {
                Some(hash) => manifest.decide(name, input.size, Some(&hash), now, policy),
                None => Decision::Upload(Reason::Changed),
            };
        }
        match decision {
            Decision::Skip(entry) => plan.skip(&input, &entry.version, entry.url_expired(now)),
            Decision::Upload(reason) => {
                sent += 1;
                plan.upload(&input, &url(&input), Some(reason));
            }
            Decision::HashFirst => {}
        }
    }
    Some(sent)
}

/// The closing line of a dry run: what was checked, what would be sent.
pub(super) fn close(printer: &Printer, inputs: usize, sent: usize, credentials: &str) -> Exit {
    let skipped = inputs - sent;
    let skipped = if skipped > 0 {
        format!(", {skipped} skipped (unchanged)")
    } else {
        String::new()
    };
    printer.note(&format!(
        "dry run: {} checked, {sent} would be uploaded{skipped}; {credentials}; nothing sent",
        output::count(inputs, "file", "files"),
    ));
    Exit::Success
}
