//! The `--report FILE` writer and the `--retry-from FILE` reader.
//!
//! The writer appends one record per line as each input ends, each line written
//! whole (one `write_all` under a lock) and flushed, so after Ctrl-C or a crash
//! the file holds every input that had ended, and at most its last line is torn.
//! The file is opened for appending, never truncated: `--report r.ndjson
//! --retry-from r.ndjson` adds the retried inputs' new records after the old
//! ones, and the reader takes the latest record of each input.
//!
//! The reader refuses a report written for another profile, origin or namespace,
//! or in a schema it does not know (exit 2: nothing is sent). A last line with no
//! newline that does not parse is the torn write of a crash and is ignored; any
//! other malformed line is an error naming the file and line.
//!
//! Its errors are [`ReportError`]s, which the top-level error wraps.

mod error;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(crate) use self::error::ReportError;
use super::record::{Binding, Outcome, Record, SCHEMA, path_of};
use crate::fsio;

/// Appends records to a report file, one flushed line per record.
#[derive(Debug)]
pub(crate) struct ReportWriter {
    path: PathBuf,
    file: Mutex<File>,
}

impl ReportWriter {
    /// Opens (creating if needed) `path` for appending. An error is a usage
    /// error: it happens before anything is sent.
    ///
    /// An existing regular file is appended to only when it reads as a
    /// capfile report (every complete line a record; a torn last record is
    /// cut off); anything else is refused untouched. A FIFO, a pipe
    /// (`>(...)`) or a character device (`/dev/null`) is written to as a
    /// stream; other special files are refused.
    pub(crate) fn create(path: &Path) -> Result<Self, ReportError> {
        let open_error = |source| ReportError::Open {
            path: path.to_path_buf(),
            source,
        };
        let kind = match std::fs::metadata(path) {
            Ok(meta) => Some(fsio::FileKind::of(&meta)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(open_error(e)),
        };
        let file = match kind {
            None | Some(fsio::FileKind::Regular) => open_report(path)?,
            Some(kind @ (fsio::FileKind::Fifo | fsio::FileKind::CharDevice)) => {
                open_stream(path, kind).map_err(open_error)?
            }
            Some(kind) => return Err(open_error(fsio::ReadError::NotRegular(kind).into())),
        };
        Ok(ReportWriter {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// The file written to.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record` as one line and flushes it.
    pub(crate) fn write(&self, record: &Record) -> Result<(), ReportError> {
        let mut line = record.to_line();
        line.push('\n');
        // A poisoned lock only means another writer panicked mid-call; the file
        // itself is still usable.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|source| ReportError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// Opens a regular report (or creates it) for appending, after checking that
/// what it holds is capfile records, and cuts a torn last record off.
fn open_report(path: &Path) -> Result<File, ReportError> {
    let open_error = |source| ReportError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut options = OpenOptions::new();
    options.create(true).read(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO swapped in since the check must not block the open.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path).map_err(open_error)?;
    fsio::check_regular(&file).map_err(open_error)?;
    let keep = check_is_report(&file, path)?;
    let len = file.metadata().map_err(open_error)?.len();
    if keep < len {
        // Only a torn last record, checked above, is ever cut.
        file.set_len(keep).map_err(open_error)?;
    }
    file.seek(SeekFrom::End(0)).map_err(open_error)?;
    Ok(file)
}

/// Reads an existing report from its start and returns how many of its bytes
/// to keep: all of them, or all but a torn last record (a crashed run's
/// partial write: no newline, and the start of a record). Any complete line
/// that is not a capfile record refuses the file.
fn check_is_report(file: &File, path: &Path) -> Result<u64, ReportError> {
    let mut lines = fsio::Lines::new(BufReader::new(file), b'\n', REPORT_LIMITS);
    let mut buf = Vec::new();
    let mut keep = 0u64;
    loop {
        let complete = match lines.next_into(&mut buf) {
            Ok(Some(complete)) => complete,
            Ok(None) => return Ok(keep),
            Err(source) => return Err(not_a_report(path, lines.number(), source.to_string())),
        };
        if !complete {
            // A torn record starts as every record does.
            let start = br#"{"schema":"#;
            let torn = buf.starts_with(start) || start.starts_with(&buf);
            return match torn {
                true => Ok(keep),
                false => Err(not_a_report(path, lines.number(), "not a capfile record".into())),
            };
        }
        if !buf.iter().all(u8::is_ascii_whitespace) {
            parse_record(&String::from_utf8_lossy(&buf), path, lines.number())
                .map_err(|err| not_a_report(path, lines.number(), why_not_a_record(&err)))?;
        }
        keep += buf.len() as u64 + 1;
    }
}

/// What a line that does not parse as a record is, in a few words.
fn why_not_a_record(err: &ReportError) -> String {
    match err {
        ReportError::UnknownSchema { schema, .. } => format!("record schema {schema} is not known to this capfile"),
        _ => "not a capfile record".to_string(),
    }
}

fn not_a_report(path: &Path, line: usize, cause: String) -> ReportError {
    ReportError::NotAReport {
        path: path.to_path_buf(),
        line,
        cause,
    }
}

/// Opens a FIFO, a pipe or a character device to write records to, without
/// truncating, seeking or reading it. A FIFO that no process reads is refused
/// rather than waited on.
fn open_stream(path: &Path, kind: fsio::FileKind) -> std::io::Result<File> {
    #[cfg(not(unix))]
    let _ = kind;
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|err| {
        #[cfg(unix)]
        if kind == fsio::FileKind::Fifo && err.raw_os_error() == Some(libc::ENXIO) {
            return std::io::Error::other("it is a FIFO and no process reads it; start its reader first");
        }
        err
    })?;
    // Writes wait for a slow reader, as to any file.
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: fcntl on a descriptor this function owns.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok(file)
}

/// The bounds of a report read: a record is a few KiB (a server's answer in
/// it included); a report is read a line at a time.
const REPORT_LIMITS: fsio::Limits = fsio::Limits {
    line: 16 << 20,
    total: 1 << 40,
    lines: usize::MAX,
};

/// One input that `--retry-from` sends again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RetryInput {
    /// The input path as recorded.
    pub input: PathBuf,
    /// The remote name it is uploaded under again.
    pub name: String,
    /// Why it is retried: `Failed` or `NotAttempted`.
    pub outcome: Outcome,
}

/// What a report says to do again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RetryPlan {
    /// The inputs to send again, in the order they first appear in the report.
    pub retry: Vec<RetryInput>,
    /// Inputs whose latest record is `uploaded` or `skipped`: nothing to do.
    pub done: usize,
}

/// Reads a report for `--retry-from`, checking that it was written for
/// `expected`. The latest record of each (input, name) pair wins.
pub(crate) fn read_report(path: &Path, expected: &Binding) -> Result<RetryPlan, ReportError> {
    let read_error = |source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = fsio::open_regular(path).map_err(read_error)?;
    read_records(BufReader::new(file), path, expected)
}

fn read_records(reader: impl BufRead, path: &Path, expected: &Binding) -> Result<RetryPlan, ReportError> {
    // Latest outcome per input, in order of first appearance.
    let mut order: Vec<(PathBuf, String)> = Vec::new();
    let mut latest: HashMap<(PathBuf, String), Outcome> = HashMap::new();
    let mut lines = fsio::Lines::new(reader, b'\n', REPORT_LIMITS);
    let mut buf = Vec::new();
    loop {
        let read = lines.next_into(&mut buf).map_err(|source| ReportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let Some(complete) = read else { break };
        let number = lines.number();
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let record = match parse_record(text, path, number) {
            Ok(record) => record,
            // The last line of a crashed run: written in part, no newline.
            Err(_) if !complete => break,
            Err(err) => return Err(err),
        };
        if record.binding != *expected {
            return Err(ReportError::WrongBinding {
                path: path.to_path_buf(),
                line: number,
                bindings: Box::new((record.binding, expected.clone())),
            });
        }
        let key = (path_of(&record.input, record.input_bytes.as_deref()), record.name);
        if latest.insert(key.clone(), record.outcome).is_none() {
            order.push(key);
        }
    }
    let mut plan = RetryPlan::default();
    for key in order {
        let outcome = latest[&key];
        if outcome.needs_retry() {
            plan.retry.push(RetryInput {
                input: key.0,
                name: key.1,
                outcome,
            });
        } else {
            plan.done += 1;
        }
    }
    Ok(plan)
}

/// One line of a report as a record of this schema.
fn parse_record(text: &str, path: &Path, number: usize) -> Result<Record, ReportError> {
    let path = || path.to_path_buf();
    let value: serde_json::Value = serde_json::from_str(text).map_err(|source| ReportError::NotJson {
        path: path(),
        line: number,
        source,
    })?;
    match value.get("schema").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA) => {}
        Some(schema) => {
            return Err(ReportError::UnknownSchema {
                path: path(),
                line: number,
                schema,
            });
        }
        None => {
            return Err(ReportError::NoSchema {
                path: path(),
                line: number,
            });
        }
    }
    serde_json::from_value(value).map_err(|source| ReportError::NotARecord {
        path: path(),
        line: number,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::record::test_binding;
    use crate::exit::{ErrorKind, Failure};

    fn rec(input: &str, outcome: Outcome) -> Record {
        Record::new(input, format!("remote/{input}"), outcome, test_binding())
    }

    fn lines(records: &[Record]) -> String {
        records.iter().map(|r| r.to_line() + "\n").collect()
    }

    fn read(text: &str) -> Result<RetryPlan, ReportError> {
        read_records(text.as_bytes(), Path::new("r.ndjson"), &test_binding())
    }

    #[test]
    fn the_writer_appends_whole_lines_and_never_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ndjson");
        let w = ReportWriter::create(&path).unwrap();
        w.write(&rec("a.png", Outcome::Uploaded)).unwrap();
        w.write(&rec("b.png", Outcome::Failed)).unwrap();
        // Visible to a reader straight away, without dropping the writer.
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        drop(w);
        let w = ReportWriter::create(&path).unwrap();
        w.write(&rec("b.png", Outcome::Uploaded)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'));
        let plan = read_report(&path, &test_binding()).unwrap();
        assert_eq!(plan, RetryPlan { retry: vec![], done: 2 });
    }

    #[test]
    fn two_writers_on_one_report_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ndjson");
        let one = ReportWriter::create(&path).unwrap();
        let two = ReportWriter::create(&path).unwrap();
        one.write(&rec("a.png", Outcome::Failed)).unwrap();
        two.write(&rec("b.png", Outcome::Failed)).unwrap();
        one.write(&rec("c.png", Outcome::Failed)).unwrap();
        let plan = read_report(&path, &test_binding()).unwrap();
        let inputs: Vec<_> = plan
            .retry
            .iter()
            .map(|r| r.input.to_string_lossy().into_owned())
            .collect();
        assert_eq!(inputs, ["a.png", "b.png", "c.png"]);
    }

    #[test]
    fn reopening_a_crashed_report_drops_its_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ndjson");
        let first = rec("a.png", Outcome::Failed).to_line() + "\n";
        // A torn line longer than one read chunk, to cross the chunk boundary.
        let mut torn = rec("b.png", Outcome::Failed);
        torn.error = Some("x".repeat(10_000));
        let torn = torn.to_line();
        std::fs::write(&path, format!("{first}{}", &torn[..9_000])).unwrap();
        ReportWriter::create(&path)
            .unwrap()
            .write(&rec("c.png", Outcome::Failed))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, first + &rec("c.png", Outcome::Failed).to_line() + "\n");
        // Only a torn line: the file is emptied.
        std::fs::write(&path, &torn[..100]).unwrap();
        drop(ReportWriter::create(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    proptest::proptest! {
        /// Whatever a file holds, if it is not capfile records (plus a torn
        /// record's start) opening it as a report refuses it unchanged.
        #[test]
        fn a_file_that_is_not_a_report_is_never_modified(
            lines in proptest::collection::vec(".{0,40}", 1..6),
            newline in proptest::bool::ANY,
        ) {
            let mut text = lines.join("\n");
            if newline {
                text.push('\n');
            }
            let is_record_start = |line: &str| line.trim().is_empty() || line.starts_with('{');
            proptest::prop_assume!(!lines.iter().all(|l| is_record_start(l)));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("notes.txt");
            std::fs::write(&path, &text).unwrap();
            let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
            let err = ReportWriter::create(&path).unwrap_err();
            proptest::prop_assert_eq!(err.kind(), ErrorKind::Usage);
            proptest::prop_assert!(err.message().contains("not a capfile report"), "{}", err.message());
            proptest::prop_assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
            proptest::prop_assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
        }
    }

    #[test]
    fn a_report_with_a_foreign_line_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ndjson");
        let good = rec("a.png", Outcome::Failed).to_line() + "\n";
        for text in [
            format!("{good}hello\n{good}"),
            format!("hello\n{good}"),
            format!("{good}{}", "x"),
            good.replace("\"schema\":1", "\"schema\":7"),
        ] {
            std::fs::write(&path, &text).unwrap();
            let err = ReportWriter::create(&path).unwrap_err();
            assert!(err.message().contains("not a capfile report"), "{}", err.message());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
    }

    #[test]
    fn an_unwritable_report_is_a_usage_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/r.ndjson");
        let err = ReportWriter::create(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.message().contains("r.ndjson"), "{}", err.message());
    }

    #[test]
    fn failed_and_not_attempted_inputs_are_retried_with_their_names() {
        let plan = read(&lines(&[
            rec("a.png", Outcome::Uploaded),
            rec("b.png", Outcome::Failed),
            rec("c.png", Outcome::Skipped),
            rec("d.png", Outcome::NotAttempted),
        ]))
        .unwrap();
        assert_eq!(plan.done, 2);
        assert_eq!(
            plan.retry,
            vec![
                RetryInput {
                    input: "b.png".into(),
                    name: "remote/b.png".into(),
                    outcome: Outcome::Failed
                },
                RetryInput {
                    input: "d.png".into(),
                    name: "remote/d.png".into(),
                    outcome: Outcome::NotAttempted
                },
            ]
        );
    }

    #[test]
    fn the_latest_record_of_an_input_wins() {
        let plan = read(&lines(&[
            rec("a.png", Outcome::Failed),
            rec("b.png", Outcome::Failed),
            rec("a.png", Outcome::Uploaded),
            rec("b.png", Outcome::NotAttempted),
        ]))
        .unwrap();
        assert_eq!(plan.done, 1);
        assert_eq!(plan.retry.len(), 1);
        assert_eq!(plan.retry[0].outcome, Outcome::NotAttempted);
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let mut text = lines(&[rec("a.png", Outcome::Failed)]);
        let torn = rec("b.png", Outcome::Failed).to_line();
        text.push_str(&torn[..torn.len() / 2]);
        let plan = read(&text).unwrap();
        assert_eq!(plan.retry.len(), 1);
        assert_eq!(plan.retry[0].input, PathBuf::from("a.png"));
    }

    #[test]
    fn a_malformed_line_elsewhere_names_the_file_and_line() {
        let text = lines(&[rec("a.png", Outcome::Failed)])
            + "{\"schema\":1,\"inp\n"
            + &lines(&[rec("b.png", Outcome::Failed)]);
        let err = read(&text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.message().starts_with("r.ndjson line 2: "), "{}", err.message());
        // A complete last line (it has its newline) that does not parse is not torn.
        let err = read("not json\n").unwrap_err();
        assert!(err.message().starts_with("r.ndjson line 1: "), "{}", err.message());
        // Valid JSON that is not a record.
        let err = read("{\"schema\":1}\n").unwrap_err();
        assert!(
            err.message().starts_with("r.ndjson line 1: not a capfile record"),
            "{}",
            err.message()
        );
        let err = read("[1,2]\n").unwrap_err();
        assert!(err.message().contains("no \"schema\" number"), "{}", err.message());
    }

    #[test]
    fn an_unknown_schema_is_refused() {
        let text = lines(&[rec("a.png", Outcome::Failed)]).replace("\"schema\":1", "\"schema\":2");
        let err = read(&text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.message().contains("schema 2"), "{}", err.message());
    }

    #[test]
    fn a_report_for_another_profile_origin_or_namespace_is_refused() {
        let changes: [fn(&mut Binding); 4] = [
            |b| b.profile = Some("prod".into()),
            |b| b.profile = None,
            |b| b.origin = "https://eu.api.capillarytech.com".into(),
            |b| b.namespace = "other".into(),
        ];
        for change in changes {
            let mut r = rec("a.png", Outcome::Failed);
            change(&mut r.binding);
            let err = read(&lines(&[rec("z.png", Outcome::Failed), r])).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage);
            assert!(
                err.message().starts_with("r.ndjson line 2 was written for "),
                "{}",
                err.message()
            );
            assert!(err.hint().is_some());
        }
    }

    #[test]
    fn an_empty_report_or_blank_lines_are_fine() {
        assert_eq!(read("").unwrap(), RetryPlan::default());
        let plan = read(&("\n".to_string() + &lines(&[rec("a.png", Outcome::Failed)]) + "\n")).unwrap();
        assert_eq!(plan.retry.len(), 1);
    }

    #[test]
    fn a_missing_report_is_a_usage_error() {
        let err = read_report(Path::new("/no/such/report.ndjson"), &test_binding()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.message().contains("/no/such/report.ndjson"));
    }
}
