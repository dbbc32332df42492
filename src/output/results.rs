//! The results of an upload on standard output, in the chosen form, and the
//! plan a dry run prints instead.
//!
//! Results are written in input order as they become known. An aligned table
//! (standard output is a terminal) is held back until the end, since its column
//! widths depend on every row; the script forms (tab-separated lines, one URL or
//! one compact JSON document per line, one record per line) are written row by
//! row, so a pipe sees each result as soon as it is final and nothing is kept.
//!
//! `-o records` prints a line for every input, whatever became of it; the other
//! forms print the inputs that were uploaded.

use crate::api::Uploaded;
use crate::batch::Record;
use crate::settings::OutputFormat;

use super::{Printer, Row, escape_control, json_compact, json_pretty, render_table};

/// What the table shows instead of a skipped file's recorded URL that has
/// expired (`--no-refresh`).
pub(super) const EXPIRED_URL: &str = "(expired; run without --no-refresh for a fresh URL)";

/// Writes upload results to the printer's standard output.
pub(crate) struct Results<'a> {
    printer: &'a Printer,
    format: OutputFormat,
    held_rows: Option<Vec<Row>>,
}

impl<'a> Results<'a> {
    pub(crate) fn new(printer: &'a Printer, format: OutputFormat) -> Self {
        let hold = format == OutputFormat::Table && printer.stdout_is_terminal();
        Results {
            printer,
            format,
            held_rows: hold.then(Vec::new),
        }
    }

    /// The record of one input that ended, with its upload when it was
    /// uploaded.
    pub(crate) fn push_record(&mut self, record: &Record, done: Option<&Uploaded>) {
        if self.format == OutputFormat::Records {
            self.printer.result(&format!("{}\n", record.to_line()));
        } else if let Some(done) = done {
            self.push(done);
        } else if let Some(rows) = &mut self.held_rows {
            // The table a person reads shows every input, failed ones too
            // (scripts' forms keep results only).
            let why = match record.outcome {
                crate::batch::Outcome::NotAttempted => "not attempted".to_string(),
                _ => format!("failed: {}", record.error.as_deref().unwrap_or("unknown error")),
            };
            rows.push(Row {
                name: record.name.clone(),
                version: "-".into(),
                secure_url: format!("({why})"),
            });
        }
    }

    /// The result of an input the manifest skipped (unchanged): the table
    /// and `-o url` show its recorded version and URL, `-o records` its
    /// record, `--json` nothing (there is no server answer). A recorded URL
    /// that has expired is never shown as valid: the table marks the row,
    /// `-o url` leaves it out with a note on standard error.
    pub(crate) fn push_skipped(&mut self, record: &Record, version: &str, expired: bool) {
        let url = record.secure_file_path.clone().unwrap_or_default();
        let text = match self.format {
            OutputFormat::Records => format!("{}\n", record.to_line()),
            OutputFormat::Json => return,
            OutputFormat::Url if expired => {
                self.printer.note(&format!(
                    "{}: skipped (unchanged), and its recorded URL has expired: not printed; \
                     run without --no-refresh to upload it again for a fresh URL",
                    escape_control(&record.name)
                ));
                return;
            }
            OutputFormat::Url => format!("{}\n", escape_control(&url)),
            OutputFormat::Table => {
                let row = Row {
                    name: record.name.clone(),
                    version: version.to_string(),
                    secure_url: if expired { EXPIRED_URL.to_string() } else { url },
                };
                match &mut self.held_rows {
                    Some(rows) => {
                        rows.push(row);
                        return;
                    }
                    None => render_table(&[row], false),
                }
            }
        };
        self.printer.result(&text);
    }

    /// The result of one finished upload.
    pub(crate) fn push(&mut self, done: &Uploaded) {
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
                None => render_table(&[row()], false),
            },
            OutputFormat::Url => format!("{}\n", escape_control(&done.secure_file_path)),
            OutputFormat::Json if self.printer.stdout_is_terminal() => format!("{}\n", json_pretty(&done.raw)),
            OutputFormat::Json => format!("{}\n", json_compact(&done.raw)),
            // Records are written by `push_record`, for every input.
            OutputFormat::Records => return,
        };
        self.printer.result(&text);
    }

    /// Writes what was held back (the aligned table), if anything.
    pub(crate) fn finish(self) {
        if let Some(rows) = self.held_rows
            && !rows.is_empty()
        {
            self.printer.result(&render_table(&rows, true));
        }
    }
}

/// One line of a dry run's plan: the request that would be sent, the body's
/// size and its media type (`None`: a placeholder, sent without a body).
pub(crate) fn dry_run_line(url: &str, size: u64, mime: Option<&str>) -> String {
    format!(
        "POST {url}\t{size} bytes\t{}\n",
        mime.unwrap_or("(placeholder, no body)")
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Buffer, Verbosity};
    use super::*;

    fn uploaded(name: &str, version: &str) -> Uploaded {
        let url = format!("https://files.example.com/{name}");
        Uploaded {
            raw: format!(r#"{{ "name" : "{name}", "version": {version}, "secureFilePath": "{url}" }}"#)
                .into_bytes()
                .into(),
            name: name.into(),
            version: version.into(),
            secure_file_path: url,
            file_handle: None,
            s3_url: None,
            request_id: None,
            maybe_duplicate: false,
        }
    }

    /// Renders two results in `format` to a standard output that is a
    /// terminal or not, and returns what was written there.
    fn render(format: OutputFormat, terminal: bool) -> String {
        let out = Buffer::memory(terminal);
        let printer = Printer::with_buffers(Verbosity::Normal, false, out.clone(), Buffer::memory(false));
        let mut results = Results::new(&printer, format);
        results.push(&uploaded("a.png", "1"));
        results.push(&uploaded("longer-name.png", "12"));
        results.finish();
        out.contents()
    }

    #[test]
    fn table_is_tab_separated_for_scripts_and_aligned_on_a_terminal() {
        assert_eq!(
            render(OutputFormat::Table, false),
            "a.png\t1\thttps://files.example.com/a.png\n\
             longer-name.png\t12\thttps://files.example.com/longer-name.png\n"
        );
        assert_eq!(
            render(OutputFormat::Table, true),
            "NAME             VERSION  SECURE URL\n\
             a.png            1        https://files.example.com/a.png\n\
             longer-name.png  12       https://files.example.com/longer-name.png\n"
        );
    }

    #[test]
    fn url_form_is_one_url_per_line_either_way() {
        let expected = "https://files.example.com/a.png\nhttps://files.example.com/longer-name.png\n";
        assert_eq!(render(OutputFormat::Url, false), expected);
        assert_eq!(render(OutputFormat::Url, true), expected);
    }

    #[test]
    fn json_is_one_compact_document_per_line_for_scripts() {
        assert_eq!(
            render(OutputFormat::Json, false),
            "{\"name\":\"a.png\",\"version\":1,\"secureFilePath\":\"https://files.example.com/a.png\"}\n\
             {\"name\":\"longer-name.png\",\"version\":12,\"secureFilePath\":\"https://files.example.com/longer-name.png\"}\n"
        );
    }

    #[test]
    fn json_is_indented_on_a_terminal() {
        let text = render(OutputFormat::Json, true);
        assert!(
            text.starts_with("{\n  \"name\": \"a.png\",\n  \"version\": 1,\n  \"secureFilePath\": \"https://files.example.com/a.png\"\n}\n{\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 10, "{text}");
    }

    #[test]
    fn records_are_printed_for_every_input_and_only_records() {
        use crate::batch::{Outcome, record::test_binding};
        let out = Buffer::memory(true);
        let printer = Printer::with_buffers(Verbosity::Normal, false, out.clone(), Buffer::memory(false));
        let mut results = Results::new(&printer, OutputFormat::Records);
        let up = Record::new("a.png", "a.png", Outcome::Uploaded, test_binding());
        let failed = Record::new("b.png", "b.png", Outcome::Failed, test_binding()).with_error("boom");
        results.push_record(&up, Some(&uploaded("a.png", "1")));
        results.push_record(&failed, None);
        results.finish();
        assert_eq!(out.contents(), format!("{}\n{}\n", up.to_line(), failed.to_line()));
        // The other forms print uploads only.
        let out = Buffer::memory(false);
        let printer = Printer::with_buffers(Verbosity::Normal, false, out.clone(), Buffer::memory(false));
        let mut results = Results::new(&printer, OutputFormat::Url);
        results.push_record(&failed, None);
        results.push_record(&up, Some(&uploaded("a.png", "1")));
        assert_eq!(out.contents(), "https://files.example.com/a.png\n");
    }

    #[test]
    fn the_table_on_a_terminal_shows_failed_inputs_and_scripts_do_not_get_them() {
        use crate::batch::{Outcome, record::test_binding};
        let up = Record::new("a.png", "a.png", Outcome::Uploaded, test_binding());
        let failed = Record::new("b.png", "b.png", Outcome::Failed, test_binding()).with_error("HTTP 500: boom");
        let skipped = Record::new("c.png", "c.png", Outcome::NotAttempted, test_binding());
        for terminal in [true, false] {
            let out = Buffer::memory(terminal);
            let printer = Printer::with_buffers(Verbosity::Normal, false, out.clone(), Buffer::memory(false));
            let mut results = Results::new(&printer, OutputFormat::Table);
            results.push_record(&up, Some(&uploaded("a.png", "1")));
            results.push_record(&failed, None);
            results.push_record(&skipped, None);
            results.finish();
            let text = out.contents();
            if terminal {
                let lines: Vec<&str> = text.lines().collect();
                assert_eq!(lines.len(), 4, "{text}");
                assert_eq!(lines[2], "b.png  -        (failed: HTTP 500: boom)");
                assert_eq!(lines[3], "c.png  -        (not attempted)");
            } else {
                assert_eq!(text, "a.png\t1\thttps://files.example.com/a.png\n");
            }
        }
    }

    #[test]
    fn an_empty_aligned_table_prints_nothing() {
        let out = Buffer::memory(true);
        let printer = Printer::with_buffers(Verbosity::Normal, false, out.clone(), Buffer::memory(false));
        Results::new(&printer, OutputFormat::Table).finish();
        assert_eq!(out.contents(), "");
    }

    #[test]
    fn dry_run_lines_name_the_request_size_and_type() {
        assert_eq!(
            dry_run_line("http://x/api/n/a.png", 51, Some("image/png")),
            "POST http://x/api/n/a.png\t51 bytes\timage/png\n"
        );
        assert_eq!(
            dry_run_line("http://x/api/n/p", 0, None),
            "POST http://x/api/n/p\t0 bytes\t(placeholder, no body)\n"
        );
    }
}
