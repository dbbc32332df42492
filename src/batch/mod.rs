//! Batch bookkeeping that does not depend on how uploads are sent: one record
//! per input, the `--report` file and `--retry-from`, releasing results in input
//! order with bounded memory, the tally (failure summaries and the exit code),
//! and the fail-fast detector for failures that hit every upload alike.
//!
//! Nothing here touches the network or prints: the upload command feeds these
//! types with outcomes and prints the lines they return.

pub(crate) mod concurrency;
pub(crate) mod record;
pub(crate) mod reorder;
pub(crate) mod report;
pub(crate) mod summary;
pub(crate) mod systemic;

pub(crate) use record::{Binding, Outcome, Record};
pub(crate) use reorder::Reorder;
pub(crate) use report::{ReportWriter, read_report};
pub(crate) use summary::Tally;
pub(crate) use systemic::{FailFast, FailureClass, Stop, SystemicKind, Verdict};
