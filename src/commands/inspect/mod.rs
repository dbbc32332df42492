//! `capfile inspect`: what each image is, from its headers alone, and, with
//! a policy, whether it may be uploaded.
//!
//! One result per file, written as it is read (a batch of 10,000 is never
//! held whole, except on a terminal, where the table is aligned): an aligned
//! table on a terminal, tab-separated lines when piped, one JSON object per
//! line with `--json`. A file whose header cannot be read, and with a policy
//! an image that breaks it, is an error line on standard error naming the
//! file; the others are still shown, and the command exits 2.
//!
//! With `--apply` (or any transform flag), each image is shown as it would
//! be sent instead (`apply`): its size, format and bytes before and after,
//! and what the transforms did.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::InspectArgs;
use crate::error::{Error, Exit};
use crate::image::{self, ImageFacts};
use crate::inputs::{self, InputError};
use crate::output::{self, Printer, escape_control};
use crate::policy::{self, Policy};
use crate::settings;
use crate::transform::Settings;

mod apply;

/// The columns, in order (the tab-separated form has no header line).
const COLUMNS: [&str; 14] = [
    "FILE", "FORMAT", "WIDTH", "HEIGHT", "BYTES", "COLOR", "DEPTH", "ALPHA", "FRAMES", "ORIENT", "EXIF", "GPS", "XMP",
    "ICC",
];

/// Runs `capfile inspect`.
pub(crate) fn run(args: InspectArgs, ctx: &super::Context) -> Result<Exit, Error> {
    let printer = &ctx.printer;
    let flags = settings::Flags {
        namespace: args.namespace.clone(),
        policy: args.policy.clone(),
        ..settings::Flags::default()
    };
    let (profile, settings) = ctx.settings(&flags)?;
    let policy = policy::select(ctx.config()?, &profile.name, &settings)?;
    let files = inputs::with_listed(&args.files, args.files_from.as_deref(), args.null)?;
    let fit = Settings::resolve(policy.as_ref(), &(&args.transforms).into());
    let mut run = Run {
        printer,
        fit: (args.apply || fit.is_active()).then_some(fit),
        policy: policy.as_ref(),
        json: args.json,
        terminal: printer.stdout_is_terminal() && !args.json,
        rows: Vec::new(),
        failed: 0,
        checked: 0,
    };
    for file in files {
        run.path(&file, args.recursive, true);
    }
    if run.terminal && !run.rows.is_empty() {
        printer.result(&align(&run.rows));
    }
    let note = match &policy {
        Some(policy) => format!(
            "{} inspected, {} refused by policy {} or unreadable",
            output::count(run.checked, "file", "files"),
            run.failed,
            policy.name
        ),
        None => format!("{} inspected", output::count(run.checked, "file", "files")),
    };
    printer.note(&note);
    Ok(if run.failed > 0 { Exit::Usage } else { Exit::Success })
}

struct Run<'a> {
    printer: &'a Printer,
    /// `--apply`: the transforms each image is shown through.
    fit: Option<Settings>,
    policy: Option<&'a Policy>,
    json: bool,
    terminal: bool,
    /// The table's rows, on a terminal only.
    rows: Vec<[String; 14]>,
    failed: usize,
    checked: usize,
}

impl Run<'_> {
    /// Inspects a file, or with -r the images under a directory. A file met
    /// in a walk that is not an image is passed over; one named is an error.
    fn path(&mut self, path: &Path, recursive: bool, named: bool) {
        let label = output::quote_path(&path.to_string_lossy());
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() && recursive => self.dir(path),
            Ok(meta) if meta.is_dir() => self.fail(InputError::IsDirectory { label }),
            Ok(_) => match image::read_path(path, &label) {
                Ok(facts) if self.fit.is_some() => self.show_applied(path, &label, &facts),
                Ok(facts) => self.show(&label, &facts),
                Err(err) if !named && matches!(err.fault, image::Fault::Unknown) => {}
                Err(err) => self.fail(InputError::Image(err)),
            },
            Err(source) => self.fail(InputError::Io { label, source }),
        }
    }

    /// The entries of a directory, in sorted order; dot files are skipped.
    fn dir(&mut self, dir: &Path) {
        let label = output::quote_path(&dir.to_string_lossy());
        let mut entries: Vec<PathBuf> = match fs::read_dir(dir) {
            Ok(listing) => listing
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
                .map(|e| e.path())
                .collect(),
            Err(source) => return self.fail(InputError::Io { label, source }),
        };
        entries.sort();
        for entry in entries {
            self.path(&entry, true, false);
        }
    }

    fn fail(&mut self, err: InputError) {
        self.checked += 1;
        self.failed += 1;
        self.printer.error(&err);
    }

    /// `--apply`: the image as it would be sent, held to the policy.
    fn show_applied(&mut self, path: &Path, label: &str, facts: &ImageFacts) {
        self.checked += 1;
        let settings = self.fit.as_ref().unwrap_or_else(|| unreachable!("only with --apply"));
        let (after, done) = match apply::preview(path, facts, settings) {
            Ok(made) => made,
            Err(why) => {
                self.failed += 1;
                let broken = vec![why];
                let policy = self.policy.map(|p| p.name.clone());
                let violations = policy::Violations {
                    label: label.to_string(),
                    policy,
                    broken,
                };
                return self.printer.error(&InputError::Policy(violations));
            }
        };
        let violations = policy::check(label, &after, self.policy);
        let broken = violations.as_ref().map_or(&[][..], |v| v.broken.as_slice());
        if self.json {
            self.printer
                .result(&format!("{}\n", apply::json_line(label, facts, &after, &done, broken)));
        } else {
            self.printer
                .result(&apply::line(&escape_control(label), facts, &after, &done));
        }
        if let Some(violations) = violations {
            self.failed += 1;
            self.printer.error(&InputError::Policy(violations));
        }
    }

    fn show(&mut self, label: &str, facts: &ImageFacts) {
        self.checked += 1;
        let violations = policy::check(label, facts, self.policy);
        if self.json {
            let broken = violations.as_ref().map_or(&[][..], |v| v.broken.as_slice());
            self.printer.result(&format!("{}\n", json_line(label, facts, broken)));
        } else if self.terminal {
            self.rows.push(cells(label, facts, "-"));
        } else {
            let line = cells(label, facts, "").join("\t");
            self.printer.result(&format!("{line}\n"));
        }
        if let Some(violations) = violations {
            self.failed += 1;
            self.printer.error(&InputError::Policy(violations));
        }
    }
}

/// One file's columns; `none` stands for a value the image does not have.
fn cells(label: &str, facts: &ImageFacts, none: &str) -> [String; 14] {
    let opt = |v: Option<String>| v.unwrap_or_else(|| none.to_string());
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    [
        escape_control(label).into_owned(),
        facts.format.to_string(),
        opt(facts.width.map(|w| w.to_string())),
        opt(facts.height.map(|h| h.to_string())),
        facts.bytes.to_string(),
        opt(facts.color.map(|c| c.to_string())),
        opt(facts.bit_depth.map(|d| d.to_string())),
        yes(facts.alpha),
        facts.frames.to_string(),
        opt(facts.orientation.map(|o| o.to_string())),
        yes(facts.exif),
        yes(facts.gps),
        yes(facts.xmp),
        yes(facts.icc),
    ]
}

/// One file as a JSON object on one line.
fn json_line(label: &str, facts: &ImageFacts, violations: &[String]) -> String {
    let mut value = serde_json::to_value(facts).unwrap_or_else(|_| json!({}));
    if let Some(object) = value.as_object_mut() {
        let mut line = serde_json::Map::new();
        line.insert("file".into(), json!(label));
        line.append(object);
        line.insert("animated".into(), json!(facts.animated()));
        line.insert("violations".into(), json!(violations));
        value = serde_json::Value::Object(line);
    }
    value.to_string()
}

/// The table with a header, each column as wide as its widest cell.
fn align(rows: &[[String; 14]]) -> String {
    let header = COLUMNS.map(str::to_string);
    let all: Vec<&[String; 14]> = std::iter::once(&header).chain(rows).collect();
    let widths: Vec<usize> = (0..14)
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in all {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
