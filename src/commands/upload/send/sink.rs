//! Where a batch's ended inputs go: the `--report` file and the line told
//! on standard error as each ends, the progress bars, and the results on
//! standard output in input order.

use crate::batch::concurrency::Change;
use crate::batch::{Record, ReportWriter, Tally};
use crate::error::Error;
use crate::output::{self, BatchProgress, Printer, Results};

use super::scheduler::Sink;
use super::{Ended, Failure, Fate};

/// The real [`Sink`]: the report, standard error, the bars and the results.
pub(super) struct Output<'a> {
    pub(super) printer: &'a Printer,
    pub(super) progress: &'a BatchProgress,
    pub(super) results: Results<'a>,
    /// `--report FILE`, opened before anything is sent.
    pub(super) report: Option<&'a ReportWriter>,
    /// Without bars, an upload is told as a line.
    pub(super) show_progress: bool,
}

impl Output<'_> {
    /// Appends one record to `--report`, if there is one (so that after a
    /// crash the report holds every input that had ended, and before it is
    /// told on standard error); the first error is told, and fails the run.
    fn write_report(&self, record: &Record, tally: &mut Tally) {
        if let Some(report) = self.report
            && !tally.report_failed()
            && let Err(err) = report.write(record)
        {
            self.printer.error(&err);
            tally.set_report_failed();
        }
    }

    /// Tells an ended input at once on standard error: a failure as an error
    /// (a systemic one only with -v: the grouped message says it once), an
    /// upload as a line when no bars show it. Says whether a failure was
    /// told as an error.
    fn tell(&self, ended: &Ended, systemic: bool) -> bool {
        match &ended.fate {
            Fate::Uploaded(done) if self.show_progress && !self.progress.draws_bars() => {
                self.printer.note(&format!(
                    "uploaded {} ({}) as version {}",
                    ended.label,
                    output::human_bytes(ended.record.bytes.unwrap_or(0)),
                    done.version
                ));
                false
            }
            Fate::Failed(Failure::Upload { error, .. }) => {
                let error = Error::Upload {
                    label: ended.label.clone(),
                    source: error.clone(),
                };
                if systemic {
                    self.printer.detail(1, &format!("capfile: error: {}", error.message()));
                } else {
                    self.printer.error(&error);
                }
                !systemic
            }
            _ => false,
        }
    }
}

impl Sink for Output<'_> {
    fn ended(&mut self, ended: &Ended, systemic: bool, tally: &mut Tally) {
        if let Fate::Failed(Failure::Unrecorded(err)) = &ended.fate {
            self.printer.error(err);
            tally.told();
        }
        self.write_report(&ended.record, tally);
        if self.tell(ended, systemic) {
            tally.told();
        }
    }

    fn release(&mut self, ended: Ended) {
        match &ended.fate {
            Fate::Skipped { version, expired } => self.results.push_skipped(&ended.record, version, *expired),
            Fate::Uploaded(done) => self.results.push_record(&ended.record, Some(done)),
            _ => self.results.push_record(&ended.record, None),
        }
    }

    fn concurrency(&mut self, change: Option<(usize, Change)>, limit: Option<usize>) {
        if let Some((level, change)) = change {
            self.printer
                .detail(1, &format!("concurrency: {level} in flight ({})", change.why()));
        }
        if let Some(limit) = limit {
            self.progress.set_concurrency(limit);
        }
    }

    fn stopped(&mut self) {
        self.progress.finish();
    }
}
