//! Ctrl-C (and, for `serve`, SIGTERM) as something a command waits on.
//!
//! By default a signal kills the process on the spot, which leaves behind
//! whatever it was doing: a half-spooled copy of standard input in the temp
//! directory, a half-received upload in the emulator's `tmp/`. So a command
//! calls [`Interrupts::install`] before it starts such work; from then on a
//! signal is only counted, and the command stops, cleans up and exits 130 (or,
//! for `serve`, shuts down) where it sees it.
//!
//! Standard input is read through [`Interrupts::stdin`], on a thread of its
//! own: a read from a pipe that stays open cannot be cancelled, so the reader
//! hands out what the thread read and gives up with an error at the first
//! signal, while the thread stays blocked and dies with the process.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use crate::error::Error;

/// Which signals count as an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signals {
    /// Ctrl-C (SIGINT).
    CtrlC,
    /// Ctrl-C, and on Unix SIGTERM (what `kill` and service managers send).
    CtrlCOrTerminate,
}

/// Signals received since [`Interrupts::install`].
pub struct Interrupts {
    shared: Arc<Shared>,
    count: watch::Receiver<u64>,
    /// How many signals [`Interrupts::next`] has returned for.
    waited: u64,
}

struct Shared {
    count: AtomicU64,
    /// Standard-input readers to wake when a signal comes.
    readers: Mutex<Vec<SyncSender<Piece>>>,
}

impl Interrupts {
    /// Installs the handlers now, on `runtime`, which must keep running (it
    /// is multi-threaded: signals are seen even while the calling thread is
    /// blocked).
    pub fn install(runtime: &tokio::runtime::Runtime, signals: Signals) -> Result<Interrupts, Error> {
        let _entered = runtime.enter();
        // Created here, not in the task: creating them is what installs the
        // handlers, and that must have happened when this returns.
        let mut listener = Listener::new(signals).map_err(Error::Signals)?;
        let shared = Arc::new(Shared {
            count: AtomicU64::new(0),
            readers: Mutex::new(Vec::new()),
        });
        let (sender, count) = watch::channel(0);
        let task_shared = Arc::clone(&shared);
        runtime.spawn(async move {
            while listener.recv().await {
                let n = task_shared.count.fetch_add(1, Ordering::SeqCst) + 1;
                let readers = task_shared.readers.lock().unwrap_or_else(PoisonError::into_inner);
                for reader in readers.iter() {
                    // A full queue is fine: the reader checks the count
                    // before each wait.
                    let _ = reader.try_send(Piece::Interrupted);
                }
                drop(readers);
                sender.send_replace(n);
            }
        });
        Ok(Interrupts {
            shared,
            count,
            waited: 0,
        })
    }

    /// Whether any signal has come since `install`.
    pub fn fired(&self) -> bool {
        self.shared.count.load(Ordering::SeqCst) > 0
    }

    /// Resolves at the next signal this has not resolved for yet: the first
    /// call at the first signal since `install` (even one that came before
    /// the call), the second call at the second, and so on.
    pub async fn next(&mut self) {
        let target = self.waited + 1;
        if self.count.wait_for(|&n| n >= target).await.is_err() {
            // The handler task is gone (the runtime is shutting down).
            std::future::pending::<()>().await;
        }
        self.waited = target;
    }

    /// Standard input, read on a thread of its own, that fails with an error
    /// at the first signal instead of blocking on.
    pub fn stdin(&self) -> InterruptibleStdin {
        let (sender, pieces) = std::sync::mpsc::sync_channel(8);
        self.shared
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sender.clone());
        std::thread::spawn(move || read_stdin(&sender));
        InterruptibleStdin {
            shared: Arc::clone(&self.shared),
            pieces,
            pending: Vec::new(),
            at: 0,
            ended: false,
        }
    }
}

/// The OS signal streams.
struct Listener {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl Listener {
    fn new(signals: Signals) -> io::Result<Listener> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let terminate = match signals {
                Signals::CtrlC => None,
                Signals::CtrlCOrTerminate => Some(signal(SignalKind::terminate())?),
            };
            Ok(Listener {
                interrupt: signal(SignalKind::interrupt())?,
                terminate,
            })
        }
        #[cfg(windows)]
        {
            let _ = signals;
            Ok(Listener {
                ctrl_c: tokio::signal::windows::ctrl_c()?,
            })
        }
    }

    /// Waits for the next signal; false when no more can come.
    async fn recv(&mut self) -> bool {
        #[cfg(unix)]
        {
            let terminate = async {
                match &mut self.terminate {
                    Some(terminate) => terminate.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                got = self.interrupt.recv() => got.is_some(),
                got = terminate => got.is_some(),
            }
        }
        #[cfg(windows)]
        {
            self.ctrl_c.recv().await.is_some()
        }
    }
}

/// What the standard-input thread hands over.
enum Piece {
    Data(Vec<u8>),
    End,
    Failed(io::Error),
    Interrupted,
}

fn read_stdin(sender: &SyncSender<Piece>) {
    let mut stdin = io::stdin().lock();
    loop {
        let mut buf = vec![0; 64 * 1024];
        let piece = match stdin.read(&mut buf) {
            Ok(0) => Piece::End,
            Ok(n) => {
                buf.truncate(n);
                Piece::Data(buf)
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => Piece::Failed(err),
        };
        let last = !matches!(piece, Piece::Data(_));
        if sender.send(piece).is_err() || last {
            return;
        }
    }
}

/// See [`Interrupts::stdin`].
pub struct InterruptibleStdin {
    shared: Arc<Shared>,
    pieces: Receiver<Piece>,
    pending: Vec<u8>,
    at: usize,
    ended: bool,
}

impl InterruptibleStdin {
    fn interrupted() -> io::Error {
        // Not `ErrorKind::Interrupted`: `io::copy` would retry the read.
        io::Error::other("interrupted")
    }
}

impl Read for InterruptibleStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.shared.count.load(Ordering::SeqCst) > 0 {
                return Err(Self::interrupted());
            }
            if self.at < self.pending.len() {
                let n = buf.len().min(self.pending.len() - self.at);
                buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            match self.pieces.recv() {
                Ok(Piece::Data(data)) => {
                    self.pending = data;
                    self.at = 0;
                }
                Ok(Piece::End) => self.ended = true,
                Ok(Piece::Failed(err)) => {
                    self.ended = true;
                    return Err(err);
                }
                Ok(Piece::Interrupted) => return Err(Self::interrupted()),
                Err(_) => return Err(io::Error::other("standard input reader stopped")),
            }
        }
    }
}
