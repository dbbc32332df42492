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
//!
//! # Every wait ends, and a signal ends it (guarantee 5)
//!
//! This module owns waiting: a command that waits for something that may
//! take long (a lock, a large file to parse, an answer) does it through
//! [`Interrupts::wait_or_interrupt`] (a future) or
//! [`Interrupts::blocking_or_interrupt`] (blocking work, run on a thread of
//! its own so the wait can end without it), which give up with
//! [`InterruptError::Interrupted`] at the first signal. `upload` counts SIGINT,
//! SIGTERM and SIGHUP alike ([`Signals::Any`]): each stops it the same way,
//! removing what it would leave behind. The exit status says which came
//! first: 128 + its number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP),
//! as a shell reports a process killed by it; see [`exit_code`].

use std::future::Future;
use std::io::{self, Read};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::exit::{ErrorKind, Failure};

/// Why a wait ended without its result: a signal came, or the signal
/// handlers or the waiting thread could not be set up.
#[derive(Debug)]
pub(crate) enum InterruptError {
    /// A signal came (exit 128 + its number).
    Interrupted,
    /// The Ctrl-C (and SIGTERM) handlers could not be installed.
    Signals(io::Error),
    /// The thread that runs blocking work could not be started.
    Thread(io::Error),
}

impl Failure for InterruptError {
    fn kind(&self) -> ErrorKind {
        match self {
            InterruptError::Interrupted => ErrorKind::Interrupted,
            InterruptError::Signals(_) | InterruptError::Thread(_) => ErrorKind::Failure,
        }
    }
}

impl std::fmt::Display for InterruptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterruptError::Interrupted => f.write_str("interrupted"),
            InterruptError::Signals(source) => write!(f, "cannot handle Ctrl-C: {source}"),
            InterruptError::Thread(source) => write!(f, "cannot start the async runtime: {source}"),
        }
    }
}

impl std::error::Error for InterruptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InterruptError::Interrupted => None,
            InterruptError::Signals(source) | InterruptError::Thread(source) => Some(source),
        }
    }
}

/// Which signals count as an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signals {
    /// Ctrl-C, and on Unix SIGTERM (what `kill` and service managers send).
    CtrlCOrTerminate,
    /// Ctrl-C, and on Unix SIGTERM and SIGHUP (the terminal closed).
    Any,
}

/// The number of the first signal counted in this process (0: none yet).
static FIRST_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// How long [`Interrupts::blocking_or_interrupt`] lets its work end after a
/// signal: a write in progress ends well within it, a wait does not.
pub(crate) const WORK_GRACE: Duration = Duration::from_secs(2);

/// SIGINT's number, the status of an interrupt when no signal was seen.
const SIGINT: i32 = 2;

/// The exit status of a command stopped by a signal: 128 + the number of the
/// first signal it counted (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP),
/// 130 when it counted none.
pub(crate) fn exit_code() -> u8 {
    let signal = match FIRST_SIGNAL.load(Ordering::SeqCst) {
        0 => SIGINT,
        n => n,
    };
    u8::try_from(128 + signal).unwrap_or(130)
}

/// Signals received since [`Interrupts::install`].
pub(crate) struct Interrupts {
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
    /// Installs the handlers now. They are listened for on a thread of
    /// their own, with a runtime of its own, so a signal is seen whatever the
    /// command's threads are doing: blocked spooling standard input, or a
    /// one-thread runtime that is not being run.
    pub(crate) fn install(signals: Signals) -> Result<Interrupts, InterruptError> {
        let shared = Arc::new(Shared {
            count: AtomicU64::new(0),
            readers: Mutex::new(Vec::new()),
        });
        let (sender, count) = watch::channel(0);
        let task_shared = Arc::clone(&shared);
        // Created on the thread, and reported back before this returns:
        // creating them is what installs the handlers.
        let (installed, outcome) = std::sync::mpsc::sync_channel(1);
        let listen = move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(err) => return drop(installed.send(Err(err))),
            };
            let _entered = runtime.enter();
            let mut listener = match Listener::new(signals) {
                Ok(listener) => listener,
                Err(err) => return drop(installed.send(Err(err))),
            };
            let _ = installed.send(Ok(()));
            runtime.block_on(async move {
                while let Some(signal) = listener.recv().await {
                    let _ = FIRST_SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
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
        };
        std::thread::Builder::new()
            .name("capfile-signals".into())
            .spawn(listen)
            .map_err(InterruptError::Signals)?;
        match outcome.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(InterruptError::Signals(err)),
            Err(_) => return Err(InterruptError::Signals(io::Error::other("the signal thread ended"))),
        }
        Ok(Interrupts {
            shared,
            count,
            waited: 0,
        })
    }

    /// Whether any signal has come since `install`.
    pub(crate) fn fired(&self) -> bool {
        self.shared.count.load(Ordering::SeqCst) > 0
    }

    /// Resolves at the next signal this has not resolved for yet: the first
    /// call at the first signal since `install` (even one that came before
    /// the call), the second call at the second, and so on.
    pub(crate) async fn next(&mut self) {
        let target = self.waited + 1;
        if self.count.wait_for(|&n| n >= target).await.is_err() {
            // The handler task is gone (the runtime is shutting down).
            std::future::pending::<()>().await;
        }
        self.waited = target;
    }

    /// Runs `wait` until it ends or a signal comes, whichever is first: a
    /// signal (even one that came before the call) gives
    /// [`InterruptError::Interrupted`] and drops `wait`.
    pub(crate) async fn wait_or_interrupt<F: Future>(&mut self, wait: F) -> Result<F::Output, InterruptError> {
        if self.fired() {
            return Err(InterruptError::Interrupted);
        }
        tokio::select! {
            biased;
            () = self.next() => Err(InterruptError::Interrupted),
            done = wait => Ok(done),
        }
    }

    /// Runs blocking `work` (waiting for a lock, parsing a large file) on a
    /// thread of its own and waits for it on `runtime` until it ends or a
    /// signal comes. At a signal this gives `work` up to [`WORK_GRACE`] to
    /// end (so that a file it is writing is finished, not left half-made),
    /// then returns [`InterruptError::Interrupted`] whether it ended or not; a thread
    /// still running dies with the process, so `work` must leave nothing
    /// behind if it is cut off while it waits (a lock held by the process is
    /// released by the OS when it ends).
    pub(crate) fn blocking_or_interrupt<T, W>(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        work: W,
    ) -> Result<T, InterruptError>
    where
        T: Send + 'static,
        W: FnOnce() -> T + Send + 'static,
    {
        if self.fired() {
            return Err(InterruptError::Interrupted);
        }
        let (done, result) = tokio::sync::oneshot::channel();
        // A plain thread, not `spawn_blocking`: dropping the runtime would
        // wait for that one to end.
        std::thread::Builder::new()
            .name("capfile-wait".into())
            .spawn(move || {
                let _ = done.send(work());
            })
            .map_err(InterruptError::Thread)?;
        runtime.block_on(async {
            tokio::pin!(result);
            match self.wait_or_interrupt(&mut result).await {
                Ok(Ok(value)) => Ok(value),
                // The thread panicked; the panic message is already printed.
                Ok(Err(_)) => Err(InterruptError::Interrupted),
                Err(interrupted) => {
                    let _ = tokio::time::timeout(WORK_GRACE, result).await;
                    Err(interrupted)
                }
            }
        })
    }

    /// Standard input, read on a thread of its own, that fails with an error
    /// at the first signal instead of blocking on.
    pub(crate) fn stdin(&self) -> InterruptibleStdin {
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
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl Listener {
    fn new(signals: Signals) -> io::Result<Listener> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let terminate = match signals {
                Signals::CtrlCOrTerminate | Signals::Any => Some(signal(SignalKind::terminate())?),
            };
            let hangup = match signals {
                Signals::Any => Some(signal(SignalKind::hangup())?),
                Signals::CtrlCOrTerminate => None,
            };
            Ok(Listener {
                interrupt: signal(SignalKind::interrupt())?,
                terminate,
                hangup,
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

    /// Waits for the next signal and returns its number; `None` when no
    /// more can come.
    async fn recv(&mut self) -> Option<i32> {
        #[cfg(unix)]
        {
            async fn optional(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
                match signal {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                got = self.interrupt.recv() => got.map(|()| libc::SIGINT),
                got = optional(&mut self.terminate) => got.map(|()| libc::SIGTERM),
                got = optional(&mut self.hangup) => got.map(|()| libc::SIGHUP),
            }
        }
        #[cfg(windows)]
        {
            self.ctrl_c.recv().await.map(|()| SIGINT)
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
pub(crate) struct InterruptibleStdin {
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
