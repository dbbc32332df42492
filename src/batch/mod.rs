//! Batch bookkeeping that does not depend on how uploads are sent: one record
//! per input, the `--report` file and `--retry-from`, releasing results in input
//! order with bounded memory, the tally (failure summaries and the exit code),
//! and the fail-fast detector for failures that hit every upload alike.
//!
//! Nothing here touches the network or prints: the upload command feeds these
//! types with outcomes and prints the lines they return.

pub mod concurrency;
pub mod record;
pub mod reorder;
pub mod report;
pub mod summary;
pub mod systemic;

pub use record::{Binding, Outcome, Record};
pub use reorder::Reorder;
pub use report::{ReportWriter, read_report};
pub use summary::Tally;
pub use systemic::{FailFast, FailureClass, Stop, SystemicKind, Verdict};
