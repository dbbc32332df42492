//! The `capfile` binary: parse the command line, run it, exit with its status.

use clap::Parser;

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    if closed_stdout::WAS_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        capfile::STDOUT_CLOSED_AT_START.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    // A shell asking for completions (CAPFILE_COMPLETE set) is answered here.
    capfile::completions::complete_if_asked();
    let cli = match capfile::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    std::process::ExitCode::from(capfile::run(cli).code())
}

/// clap's own errors, with the `capfile: error:` prefix every other error
/// has; help and version output go out as clap writes them, and a failure to
/// write them is an error like any other write failure (exit 1), not a
/// silent success.
fn usage_error(err: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let stream = if err.use_stderr() {
            "standard error"
        } else {
            "standard output"
        };
        let written = err.print().and_then(|()| {
            use std::io::Write;
            std::io::stdout().flush()?;
            std::io::stderr().flush()
        });
        return match written {
            Ok(()) => std::process::ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)),
            // A reader that leaves early (`| head -1`) is not an error.
            Err(cause) if cause.kind() == std::io::ErrorKind::BrokenPipe => std::process::ExitCode::SUCCESS,
            Err(cause) => {
                eprintln!("capfile: error: cannot write to {stream}: {cause}");
                std::process::ExitCode::from(1)
            }
        };
    }
    let text = err.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    eprint!("capfile: error: {text}");
    std::process::ExitCode::from(2)
}

/// Whether standard output was closed when the process started (`>&-`). Rust's
/// runtime reopens a closed standard stream on /dev/null before `main` runs, so
/// writes would vanish without an error; this looks first, from the ELF init
/// array, which the C runtime runs before Rust's start-up code.
#[cfg(target_os = "linux")]
mod closed_stdout {
    use std::sync::atomic::{AtomicBool, Ordering};

    pub static WAS_CLOSED: AtomicBool = AtomicBool::new(false);

    extern "C" fn check() {
        // SAFETY: fcntl(F_GETFD) only reads the descriptor table.
        if unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1 {
            WAS_CLOSED.store(true, Ordering::Relaxed);
        }
    }

    #[used]
    #[unsafe(link_section = ".init_array")]
    static CHECK: extern "C" fn() = check;
}
