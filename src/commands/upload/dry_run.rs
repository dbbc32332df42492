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

use super::send::Whose;
use crate::api::FileService;
use crate::credentials::Credentials;
use crate::error::{Error, Exit};
use crate::inputs::{Input, Inputs};
use crate::interrupt::Interrupts;
use crate::manifest::Reason;
use crate::output::{self, Printer};
use crate::settings::OutputFormat;

use super::plan::{Plan, Step};

/// Where the plan's lines go, and in which form.
pub(super) struct Listing<'a> {
    printer: &'a Printer,
    json: bool,
}

impl<'a> Listing<'a> {
    pub(super) fn new(printer: &'a Printer, format: OutputFormat) -> Listing<'a> {
        Listing {
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

/// Lists the plan ([`Plan::decide`], input by input): the request each
/// input would send and, with a manifest, why (`new`, `changed`, `expired`,
/// `forced`), or `skip` and its recorded version. Returns how many would be
/// sent, or `None` when a signal stopped it (checked before each input:
/// hashing a batch of large files takes a while).
pub(super) fn list(
    inputs: &Inputs,
    plan: &Plan,
    listing: &Listing,
    interrupts: &Interrupts,
    url: impl Fn(&Input) -> String,
) -> Option<usize> {
    let mut sent = 0;
    for input in inputs.iter() {
        if interrupts.fired() {
            return None;
        }
        match plan.decide(&input) {
            Step::Skip { entry, expired } => listing.skip(&input, &entry.version, expired),
            Step::Upload(reason) => {
                sent += 1;
                listing.upload(&input, &url(&input), reason);
            }
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
