//! The committed completion scripts, in the real shells.
//!
//! Each test loads the script from `completions/` as a user would and asks the
//! shell itself to complete `capfile up` (to `upload`) and `capfile upload --js`
//! (to `--json`): bash through the function `complete -p` names, called with
//! COMP_WORDS and COMP_CWORD set; fish through `complete -C`; zsh by typing the
//! line and a Tab into an interactive zsh on a pseudo-terminal (zsh/zpty), with
//! `compadd` wrapped to record the matches.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::generated::TREE;
use crate::tools::{self, Run, repo};

const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

fn script(name: &str) -> PathBuf {
    repo().join("completions").join(name)
}

/// The lines a shell printed, for exact membership checks.
fn lines(run: &Run) -> Vec<&str> {
    run.stdout.lines().collect()
}

fn assert_clean(shell: &str, run: &Run) {
    assert!(
        run.status.success() && run.stderr.is_empty(),
        "{shell} did not load the committed script cleanly:\n{}",
        run.describe()
    );
}

/// Loads bash-completion, then the script, then completes each line with the
/// function that `complete -p capfile` names. Prints `spec: ...` and then, for
/// each line, `== LINE` and one candidate per line.
const BASH_DRIVER: &str = r#"
source "$1" || exit 10
source "$2" || exit 11
spec=$(complete -p capfile) || exit 12
echo "spec: $spec"
func=${spec##*-F }
func=${func%% *}
shift 2
for line in "$@"; do
    read -r -a COMP_WORDS <<< "$line"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    prev=capfile
    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
    "$func" capfile "${COMP_WORDS[COMP_CWORD]}" "$prev"
    echo "== $line"
    printf '%s\n' "${COMPREPLY[@]}"
done
"#;

/// Splits the driver's output into the candidates for each line.
fn candidates<'a>(stdout: &'a str, line: &str) -> Vec<&'a str> {
    let marker = format!("== {line}");
    stdout
        .lines()
        .skip_while(|l| *l != marker)
        .skip(1)
        .take_while(|l| !l.starts_with("== "))
        .map(|l| l.split('\t').next().unwrap_or(l).trim_end())
        .collect()
}

#[test]
fn bash_completes_from_the_committed_script() {
    if !tools::available("bash", "bash") || !tools::file_available(Path::new(BASH_COMPLETION), "bash-completion") {
        return;
    }
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let home = tempfile::tempdir().unwrap();
    let run = tools::run(
        Command::new("bash")
            .args(["--noprofile", "--norc", "-c", BASH_DRIVER, "bash"])
            .arg(BASH_COMPLETION)
            .arg(script("capfile.bash"))
            .args(["capfile up", "capfile upload --js", "capfile config "]),
        home.path(),
    );
    assert_clean("bash", &run);
    assert!(
        run.stdout.contains("spec: complete ") && run.stdout.contains(" capfile"),
        "{}",
        run.describe()
    );
    assert_eq!(candidates(&run.stdout, "capfile up"), ["upload"], "{}", run.describe());
    assert_eq!(
        candidates(&run.stdout, "capfile upload --js"),
        ["--json"],
        "{}",
        run.describe()
    );
    let actions = candidates(&run.stdout, "capfile config ");
    for action in ["list", "get", "set", "unset", "profiles", "path"] {
        assert!(actions.contains(&action), "{action}: {}", run.describe());
    }
}

#[test]
fn fish_completes_from_the_committed_script() {
    if !tools::available("fish", "fish") {
        return;
    }
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let home = tempfile::tempdir().unwrap();
    let run = tools::run(
        Command::new("fish")
            .args(["--no-config", "-c"])
            .arg(
                r#"source $argv[1]; or exit 10
            for line in $argv[2..-1]
                echo "== $line"
                complete -C "$line"
            end"#,
            )
            .arg(script("capfile.fish"))
            .args(["capfile up", "capfile upload --js", "capfile config "]),
        home.path(),
    );
    assert_clean("fish", &run);
    assert_eq!(candidates(&run.stdout, "capfile up"), ["upload"], "{}", run.describe());
    assert_eq!(
        candidates(&run.stdout, "capfile upload --js"),
        ["--json"],
        "{}",
        run.describe()
    );
    assert_eq!(
        candidates(&run.stdout, "capfile config "),
        [
            "delete-profile",
            "get",
            "help",
            "list",
            "path",
            "profiles",
            "set",
            "unset"
        ],
        "{}",
        run.describe()
    );
    // The descriptions come along.
    assert!(
        lines(&run).contains(&"upload\tUpload images to the file service"),
        "{}",
        run.describe()
    );
}

/// Run inside the interactive zsh on the pseudo-terminal: compinit with the
/// script's directory on $fpath, Tab bound to plain completion, and `compadd`
/// wrapped so that the matches it would offer are appended to a file.
const ZSH_INIT: &str = r#"
PROMPT='> '
fpath=($CAPFILE_FPATH $fpath)
autoload -U compinit && compinit -u -D
bindkey '^I' complete-word
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd () {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
        builtin compadd "$@"
        return $?
    fi
    typeset -a __hits
    builtin compadd -A __hits "$@"
    (( $#__hits )) && print -rl -- $__hits >> $CAPFILE_MATCHES
    return 0
}
_capfile_test_done () { print -r -- '<done>' >> $CAPFILE_MATCHES }
comppostfuncs=( _capfile_test_done )
"#;

/// Types `$2` and a Tab into a fresh interactive zsh that sourced `$1`, and
/// waits (at most 10 s) for the completion to finish.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty zsh/zselect || exit 10
zpty capture zsh -f -i || exit 11
zpty -w capture "source ${(q)1}"
zpty -w -n capture "$2"$'\t'
integer i
for i in {1..100}; do
    [[ -f $CAPFILE_MATCHES ]] && grep -q '<done>' $CAPFILE_MATCHES && break
    zselect -t 10
done
zpty -d capture
[[ -f $CAPFILE_MATCHES ]] && cat $CAPFILE_MATCHES
"#;

#[test]
fn zsh_loads_the_committed_script_under_compinit() {
    if !tools::available("zsh", "zsh") {
        return;
    }
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let home = tempfile::tempdir().unwrap();
    let fpath = home.path().join("site-functions");
    std::fs::create_dir(&fpath).unwrap();
    std::fs::copy(script("_capfile"), fpath.join("_capfile")).unwrap();

    // As installed: a file on $fpath that compinit picks up by its #compdef line.
    let run = tools::run(
        Command::new("zsh")
            .args(["-f", "-c"])
            .arg(
                r#"fpath=($1 $fpath)
            autoload -U compinit && compinit -u -D || exit 10
            print -r -- "comps: $_comps[capfile]"
            autoload -Uz +X _capfile || exit 11
            print -r -- "defined: $+functions[_capfile]"
            # Sourced by hand after compinit, as some users do: it calls compdef.
            unfunction _capfile
            source $2 || exit 12
            print -r -- "sourced: $_comps[capfile]""#,
            )
            .arg("zsh")
            .arg(&fpath)
            .arg(script("_capfile")),
        home.path(),
    );
    assert_clean("zsh", &run);
    assert_eq!(
        lines(&run),
        ["comps: _capfile", "defined: 1", "sourced: _capfile"],
        "{}",
        run.describe()
    );
}

#[test]
fn zsh_completes_from_the_committed_script() {
    if !tools::available("zsh", "zsh") {
        return;
    }
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    for (line, want) in [("capfile up", "upload"), ("capfile upload --js", "--json")] {
        let home = tempfile::tempdir().unwrap();
        let fpath = home.path().join("site-functions");
        std::fs::create_dir(&fpath).unwrap();
        std::fs::copy(script("_capfile"), fpath.join("_capfile")).unwrap();
        let init = home.path().join("init.zsh");
        std::fs::write(&init, ZSH_INIT).unwrap();
        let run = tools::run(
            Command::new("zsh")
                .args(["-f", "-c", ZSH_DRIVER, "zsh"])
                .arg(&init)
                .arg(line)
                .env("CAPFILE_FPATH", &fpath)
                .env("CAPFILE_MATCHES", home.path().join("matches")),
            home.path(),
        );
        assert!(run.status.success(), "{line}: {}", run.describe());
        assert_eq!(
            lines(&run),
            [want, "<done>"],
            "zsh completing {line:?}: {}",
            run.describe()
        );
    }
}
