//! The completion engine, beside the command line it completes: the scripts
//! `capfile completions SHELL` prints (`commands::completions`), and the
//! completers the shells call back into.
//!
//! Completion is dynamic (clap_complete's engine): the script a shell loads is
//! a small registration that runs `capfile` itself with `CAPFILE_COMPLETE=SHELL`
//! and the words of the line, and `capfile` answers from its clap definitions
//! and from the setup it finds: profile names from `config.toml`, the setting
//! keys of the settings table and the fixed values of a setting, image files
//! and directories for `upload`. `main` hands such a run to `complete_if_asked`
//! before anything else happens.
//!
//! The same scripts are committed under `completions/` for packagers; a test
//! (`tests/docs`) fails when those copies fall behind.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::engine::{CompletionCandidate, PathCompleter, ValueCompleter};
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Shells, Zsh};

use crate::cli::{Cli, Shell};
use crate::config_file::{Config, Paths};
use crate::media_type;
use crate::settings::Key;
use crate::settings::Kind;

/// The name the scripts complete.
pub const BIN_NAME: &str = "capfile";

/// The environment variable that turns a run of `capfile` into a completion
/// request; the scripts set it to the shell's name.
pub const COMPLETE_VAR: &str = "CAPFILE_COMPLETE";

/// Answers a completion request (`CAPFILE_COMPLETE=SHELL capfile -- WORDS`) and
/// exits; returns at once when the variable is not set.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .shells(Shells(&[&BashQuoted, &Elvish, &Fish, &Powershell, &Zsh]))
        .var(COMPLETE_VAR)
        .bin(BIN_NAME)
        .completer(BIN_NAME)
        .complete();
}

/// The completion script for `shell`: a registration that calls back into
/// `capfile` (found on PATH) for the candidates.
pub fn script(shell: Shell) -> String {
    let mut out = Vec::new();
    let written = match shell {
        Shell::Bash => Bash.write_registration(COMPLETE_VAR, BIN_NAME, BIN_NAME, BIN_NAME, &mut out),
        Shell::Fish => Fish.write_registration(COMPLETE_VAR, BIN_NAME, BIN_NAME, BIN_NAME, &mut out),
        Shell::Powershell => Powershell.write_registration(COMPLETE_VAR, BIN_NAME, BIN_NAME, BIN_NAME, &mut out),
        Shell::Elvish => Elvish.write_registration(COMPLETE_VAR, BIN_NAME, BIN_NAME, BIN_NAME, &mut out),
        Shell::Zsh => return ZSH_SCRIPT.replace("VAR", COMPLETE_VAR),
    };
    // Writing to a Vec cannot fail; the registrations are UTF-8 text.
    debug_assert!(written.is_ok());
    String::from_utf8_lossy(&out).into_owned()
}

/// clap_complete's bash adapter, with the candidates quoted for the command
/// line: bash inserts a reply as it is, so `with space.png` must come back as
/// `with\ space.png` to stay one argument. The word being completed arrives
/// as typed (`with\ sp`) and is unquoted before it is matched.
struct BashQuoted;

impl EnvCompleter for BashQuoted {
    fn name(&self) -> &'static str {
        "bash"
    }

    fn is(&self, name: &str) -> bool {
        name == "bash"
    }

    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn std::io::Write,
    ) -> Result<(), std::io::Error> {
        Bash.write_registration(var, name, bin, completer, buf)
    }

    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        mut args: Vec<OsString>,
        current_dir: Option<&Path>,
        buf: &mut dyn std::io::Write,
    ) -> Result<(), std::io::Error> {
        let index: usize = std::env::var("_CLAP_COMPLETE_INDEX")
            .ok()
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        let ifs = std::env::var("_CLAP_IFS").unwrap_or_else(|_| "\n".to_string());
        if let Some(word) = args.get_mut(index)
            && let Some(text) = word.to_str()
        {
            *word = OsString::from(bash_unquote(text));
        }
        let candidates = clap_complete::engine::complete(cmd, args, index, current_dir)?;
        let replies: Vec<String> = candidates
            .iter()
            .map(|c| bash_quote(&c.get_value().to_string_lossy()))
            .collect();
        write!(buf, "{}", replies.join(&ifs))
    }
}

/// A word as bash would pass it on: backslashes before the characters bash
/// treats specially (but not `~`, so `~/` still expands).
fn bash_quote(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if " \t\n'\"\\$`!&;|<>()*?[]{}#^".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A word as typed, with its backslashes and quotes taken away; an unclosed
/// quote runs to the end of the word.
fn bash_unquote(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '\'' => out.extend(chars.by_ref().take_while(|c| *c != '\'')),
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => out.extend(chars.next()),
                        c => out.push(c),
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The zsh script: clap_complete's registration, shaped as a completion
/// function file, so it works both autoloaded from `$fpath` by compinit (its
/// `#compdef` line) and sourced after compinit (it calls `compdef`).
const ZSH_SCRIPT: &str = r#"#compdef capfile

_capfile() {
    local _CLAP_COMPLETE_INDEX=$(( CURRENT - 1 ))
    local _CLAP_IFS=$'\n'

    local completions=("${(@f)$( \
        _CLAP_IFS="$_CLAP_IFS" \
        _CLAP_COMPLETE_INDEX="$_CLAP_COMPLETE_INDEX" \
        VAR="zsh" \
        capfile -- "${words[@]}" 2>/dev/null \
    )}")

    if [[ -n $completions ]]; then
        local -a dirs=()
        local -a other=()
        local completion
        for completion in $completions; do
            local value="${completion%%:*}"
            if [[ "$value" == */ ]]; then
                local dir_no_slash="${value%/}"
                if [[ "$completion" == *:* ]]; then
                    local desc="${completion#*:}"
                    dirs+=("$dir_no_slash:$desc")
                else
                    dirs+=("$dir_no_slash")
                fi
            else
                other+=("$completion")
            fi
        done
        [[ -n $dirs ]] && _describe -V 'values' dirs -S '/' -r '/'
        [[ -n $other ]] && _describe -V 'values' other
    fi
}

if [[ "${funcstack[1]}" == "_capfile" ]]; then
    _capfile "$@"
else
    compdef _capfile capfile
fi
"#;

/// The conventional file name of the script, e.g. `_capfile` for zsh.
pub fn file_name(shell: Shell) -> String {
    match shell {
        Shell::Bash => "capfile.bash",
        Shell::Zsh => "_capfile",
        Shell::Fish => "capfile.fish",
        Shell::Powershell => "_capfile.ps1",
        Shell::Elvish => "capfile.elv",
    }
    .to_string()
}

/// The words of the line being completed (after the `--` the scripts pass),
/// or nothing when this is not a completion run.
fn line_words() -> Vec<OsString> {
    let args: Vec<OsString> = std::env::args_os().collect();
    match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// The config file the line would use: its `--config`, else `CAPFILE_CONFIG`,
/// else the default location.
fn config_path(words: &[OsString]) -> Option<PathBuf> {
    let mut given = None;
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        let text = word.to_string_lossy();
        if text == "--config" {
            given = iter.next().map(PathBuf::from);
        } else if let Some(path) = text.strip_prefix("--config=") {
            given = Some(PathBuf::from(path));
        }
    }
    let given = given.or_else(|| std::env::var_os("CAPFILE_CONFIG").map(PathBuf::from));
    Paths::locate(given.as_deref()).ok().map(|paths| paths.config)
}

/// `-p <TAB>`: the profiles in the config file.
pub fn complete_profile(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(path) = config_path(&line_words()) else {
        return Vec::new();
    };
    profile_candidates(&path, &current.to_string_lossy())
}

fn profile_candidates(config: &Path, current: &str) -> Vec<CompletionCandidate> {
    let Ok(config) = Config::load(config) else {
        return Vec::new();
    };
    config
        .names()
        .into_iter()
        .filter(|name| name.starts_with(current))
        .map(CompletionCandidate::new)
        .collect()
}

/// `config get|set|unset <TAB>`: the setting keys, with their help lines.
pub fn complete_key() -> Vec<CompletionCandidate> {
    Key::ALL
        .iter()
        .map(|key| CompletionCandidate::new(key.name()).help(Some(key.spec().help.into())))
        .collect()
}

/// `config set KEY <TAB>`: the values of KEY when they are a fixed set.
pub fn complete_value(current: &OsStr) -> Vec<CompletionCandidate> {
    let words = line_words();
    // The word after `set` is the key.
    let key = words
        .iter()
        .position(|w| w == "set")
        .and_then(|i| words.get(i + 1))
        .and_then(|w| Key::parse(&w.to_string_lossy()).ok());
    let Some(key) = key else {
        return Vec::new();
    };
    value_candidates(key, &current.to_string_lossy())
}

fn value_candidates(key: Key, current: &str) -> Vec<CompletionCandidate> {
    match key.spec().kind {
        Kind::Choice { names, .. } => names()
            .into_iter()
            .filter(|name| name.starts_with(current))
            .map(CompletionCandidate::new)
            .collect(),
        _ => Vec::new(),
    }
}

/// `upload <TAB>`: directories and image files (judged as `upload` judges
/// them, by their bytes). Only regular files are opened, without blocking (a
/// FIFO in the folder never hangs the shell); a name with a control
/// character (a newline would split one candidate into two) is not offered.
pub fn complete_upload_file(current: &OsStr) -> Vec<CompletionCandidate> {
    let completer = PathCompleter::any().filter(|path| path.is_dir() || is_image(path));
    completer
        .complete(current)
        .into_iter()
        // Not `.`, which the path completer offers for an empty word.
        .filter(|candidate| candidate.get_value() != ".")
        .filter(|candidate| !candidate.get_value().to_string_lossy().chars().any(char::is_control))
        .collect()
}

/// Whether `path` is a regular file whose first bytes are an image's.
fn is_image(path: &Path) -> bool {
    // metadata() never opens the file; the bounded reader checks it again
    // on the open descriptor.
    if !path.metadata().is_ok_and(|meta| meta.is_file()) {
        return false;
    }
    crate::fsio::read_head(path, media_type::SNIFF_LEN).is_ok_and(|head| media_type::sniff(&head).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    fn values(candidates: Vec<CompletionCandidate>) -> Vec<String> {
        candidates
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_shell_has_a_script_that_calls_back_into_capfile() {
        for shell in Shell::value_variants() {
            let script = script(*shell);
            assert!(script.contains(COMPLETE_VAR), "{shell:?}: {script}");
            assert!(script.contains("capfile"), "{shell:?}");
        }
    }

    #[test]
    fn file_names_are_the_conventional_ones() {
        let names: Vec<String> = Shell::value_variants().iter().map(|s| file_name(*s)).collect();
        assert_eq!(
            names,
            [
                "capfile.bash",
                "_capfile",
                "capfile.fish",
                "_capfile.ps1",
                "capfile.elv"
            ]
        );
    }

    #[test]
    fn bash_words_are_quoted_and_unquoted() {
        assert_eq!(bash_quote("with space.png"), "with\\ space.png");
        assert_eq!(bash_quote("it's (1).png"), "it\\'s\\ \\(1\\).png");
        assert_eq!(bash_quote("~/dir/a.png"), "~/dir/a.png");
        assert_eq!(bash_unquote("with\\ sp"), "with sp");
        assert_eq!(bash_unquote("'with sp"), "with sp");
        assert_eq!(bash_unquote("\"with\" sp"), "with sp");
        for word in ["with space.png", "it's (1).png", "a\\b$c"] {
            assert_eq!(bash_unquote(&bash_quote(word)), word);
        }
    }

    #[cfg(unix)]
    #[test]
    fn upload_completion_opens_only_regular_files_and_offers_no_control_characters() {
        let dir = tempfile::tempdir().unwrap();
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        std::fs::write(dir.path().join("a.png"), png).unwrap();
        std::fs::write(dir.path().join("bad\nname.png"), png).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "text").unwrap();
        let fifo = std::ffi::CString::new(dir.path().join("fifo.png").to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.png")).unwrap();
        // A FIFO with no writer would block an open without O_NONBLOCK: the
        // test would hang here.
        let prefix = format!("{}/", dir.path().display());
        let offered = values(complete_upload_file(OsStr::new(&prefix)));
        assert_eq!(offered, [format!("{prefix}a.png")]);
    }

    #[test]
    fn keys_come_from_the_settings_table() {
        let keys = values(complete_key());
        assert_eq!(keys, Key::ALL.map(Key::name));
    }

    #[test]
    fn fixed_values_are_offered_for_choice_settings_only() {
        assert_eq!(values(value_candidates(Key::Auth, "")), ["basic", "oauth"]);
        assert_eq!(values(value_candidates(Key::Output, "j")), ["json"]);
        assert_eq!(values(value_candidates(Key::Body, "")), ["multipart", "raw"]);
        assert!(value_candidates(Key::Namespace, "").is_empty());
    }

    #[test]
    fn profiles_come_from_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "[profiles.default]\n[profiles.demo]\n[profiles.prod]\n").unwrap();
        assert_eq!(values(profile_candidates(&config, "")), ["default", "demo", "prod"]);
        assert_eq!(values(profile_candidates(&config, "d")), ["default", "demo"]);
        // A missing or broken file offers nothing rather than failing.
        assert!(profile_candidates(&dir.path().join("none.toml"), "").is_empty());
        std::fs::write(&config, "not toml [").unwrap();
        assert!(profile_candidates(&config, "").is_empty());
    }
}
