//! Where the printer's bytes go: standard output, standard error, or (in unit
//! tests) memory, together with whether that place is a terminal.
//!
//! The terminal flag decides between the human forms (aligned table, pretty JSON,
//! progress bars) and the script forms, so a test can ask for either form and read
//! back exactly the bytes a user would see.

use std::io::{self, IsTerminal, Write};
#[cfg(test)]
use std::sync::{Arc, Mutex};

/// One output stream of the printer.
#[derive(Clone, Debug)]
pub(crate) struct Buffer {
    target: Target,
    terminal: bool,
}

#[derive(Clone, Debug)]
enum Target {
    Stdout,
    Stderr,
    /// For unit tests: what the printer wrote, kept in memory.
    #[cfg(test)]
    Memory(Arc<Mutex<Vec<u8>>>),
}

impl Buffer {
    /// The process's standard output.
    pub(crate) fn stdout() -> Buffer {
        Buffer {
            target: Target::Stdout,
            terminal: io::stdout().is_terminal(),
        }
    }

    /// The process's standard error.
    pub(crate) fn stderr() -> Buffer {
        Buffer {
            target: Target::Stderr,
            terminal: io::stderr().is_terminal(),
        }
    }

    /// A buffer in memory that claims to be a terminal or not; clones share
    /// the bytes, so a test keeps one clone to read what the printer wrote.
    #[cfg(test)]
    pub(crate) fn memory(terminal: bool) -> Buffer {
        Buffer {
            target: Target::Memory(Arc::default()),
            terminal,
        }
    }

    pub(crate) fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Whether this is the process's standard error, where progress bars can be
    /// drawn (they write to it directly, not through this buffer).
    pub(crate) fn is_process_stderr(&self) -> bool {
        matches!(self.target, Target::Stderr)
    }

    /// Writes `bytes` in one piece and flushes them.
    pub(crate) fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        match &self.target {
            Target::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Target::Stderr => io::stderr().lock().write_all(bytes),
            #[cfg(test)]
            Target::Memory(memory) => {
                memory
                    .lock()
                    .map_err(|_| io::Error::other("the output buffer is poisoned"))?
                    .extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// What was written to a memory buffer so far (empty for the real streams).
    #[cfg(test)]
    pub(crate) fn contents(&self) -> String {
        match &self.target {
            Target::Memory(memory) => memory
                .lock()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default(),
            Target::Stdout | Target::Stderr => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_clones_share_their_bytes() {
        let buffer = Buffer::memory(true);
        let reader = buffer.clone();
        buffer.write_all(b"one\n").unwrap();
        buffer.write_all(b"two\n").unwrap();
        assert_eq!(reader.contents(), "one\ntwo\n");
        assert!(reader.is_terminal());
        assert!(!reader.is_process_stderr());
    }
}
