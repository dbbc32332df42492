//! The committed completion scripts, in the real shells.
//!
//! Each test loads the script from `completions/` as a user would, with the
//! built `capfile` first on PATH (the scripts call back into it), in a
//! directory holding images, a directory, `urls.txt` and a name with a space,
//! and a config file with two profiles. It asks the shell itself to complete
//! subcommands and flags (`capfile up`, `capfile upload --js`), profile names
//! (`-p`), setting keys and values (`config get`, `config set auth`) and files
//! to upload: bash through the function `complete -p` names, called with
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

/// Where the shells run: `work/` with two images (one named with a space),
/// a text file and a directory; `config.toml` with the profiles `default` and
/// `demo`; `bin/` with the built `capfile`.
struct Setup {
    home: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let home = tempfile::tempdir().unwrap();
        let work = home.path().join("work");
        std::fs::create_dir_all(work.join("sub dir")).unwrap();
        let png = std::fs::read(repo().join("samples/sample.png")).unwrap();
        std::fs::write(work.join("banner.png"), &png).unwrap();
        std::fs::write(work.join("with space.png"), &png).unwrap();
        std::fs::write(work.join("urls.txt"), "https://example.com/a.png\n").unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            "[profiles.default]\nnamespace = \"rewards\"\n\n[profiles.demo]\nauth = \"oauth\"\n",
        )
        .unwrap();
        Setup { home }
    }

    fn path(&self) -> &Path {
        self.home.path()
    }

    /// A shell command in `work/`, with the built capfile first on PATH and
    /// the test's config file.
    fn shell(&self, program: &str) -> Command {
        let bin = Path::new(env!("CARGO_BIN_EXE_capfile")).parent().unwrap().to_path_buf();
        let path = std::env::join_paths(
            std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        let mut command = Command::new(program);
        command
            .current_dir(self.path().join("work"))
            .env("PATH", path)
            .env("CAPFILE_CONFIG", self.path().join("config.toml"))
            .env_remove("CAPFILE_PROFILE")
            .env_remove("CAPFILE_COMPLETE");
        command
    }
}

/// The lines completed in every shell.
const LINES: [&str; 7] = [
    "capfile up",
    "capfile upload --js",
    "capfile config ",
    "capfile -p ",
    "capfile config get ",
    "capfile config set auth ",
    "capfile upload ",
];

/// What every shell must offer for the lines of `LINES` beyond the first
/// three: the profiles, the keys, the values and the files.
/// `dir` is how the shell offers the directory `sub dir`.
fn assert_setup_candidates(shell: &str, run: &Run, dir: &str, candidates: impl Fn(&str) -> Vec<String>) {
    assert_eq!(
        candidates("capfile -p "),
        ["default", "demo"],
        "{shell}: {}",
        run.describe()
    );
    let keys = candidates("capfile config get ");
    for key in ["base_url", "auth", "namespace", "output", "body"] {
        assert!(keys.iter().any(|k| k == key), "{shell}: key {key}: {}", run.describe());
    }
    let values = candidates("capfile config set auth ");
    for value in ["basic", "oauth"] {
        assert!(
            values.iter().any(|v| v == value),
            "{shell}: value {value}: {}",
            run.describe()
        );
    }
    assert!(
        !values.iter().any(|v| v.contains(".png")),
        "{shell}: {}",
        run.describe()
    );
    let files = candidates("capfile upload ");
    for file in ["banner.png", "with space.png", dir] {
        assert!(
            files.iter().any(|f| f == file),
            "{shell}: upload offers no {file:?}: {files:?}\n{}",
            run.describe()
        );
    }
    for refused in ["urls.txt", "-", "with", "space.png"] {
        assert!(
            !files.iter().any(|f| f == refused),
            "{shell}: upload offers {refused:?}: {files:?}\n{}",
            run.describe()
        );
    }
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
    let setup = Setup::new();
    let run = tools::run(
        setup
            .shell("bash")
            .args(["--noprofile", "--norc", "-c", BASH_DRIVER, "bash"])
            .arg(BASH_COMPLETION)
            .arg(script("capfile.bash"))
            .args(LINES),
        setup.path(),
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
    // bash inserts a reply as it is: a space comes quoted, so the name stays
    // one argument.
    let files = candidates(&run.stdout, "capfile upload ");
    assert!(files.contains(&"with\\ space.png"), "{}", run.describe());
    assert_setup_candidates("bash", &run, "sub dir/", |line| {
        candidates(&run.stdout, line)
            .into_iter()
            .map(|c| c.replace("\\ ", " "))
            .collect()
    });

    // A name typed with its space quoted is completed, and comes back quoted.
    let run = tools::run(
        setup
            .shell("bash")
            .args(["--noprofile", "--norc", "-c"])
            .arg(
                r#"source "$1" || exit 10
source "$2" || exit 11
for word in 'with\ sp' "'with sp" 'sub\ d'; do
    COMP_WORDS=(capfile upload "$word"); COMP_CWORD=2
    COMP_LINE="capfile upload $word"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _clap_complete_capfile capfile "$word" upload
    echo "== $word"
    printf '%s\n' "${COMPREPLY[@]}"
done"#,
            )
            .arg("bash")
            .arg(BASH_COMPLETION)
            .arg(script("capfile.bash")),
        setup.path(),
    );
    assert_clean("bash", &run);
    assert_eq!(
        candidates(&run.stdout, "with\\ sp"),
        ["with\\ space.png"],
        "{}",
        run.describe()
    );
    assert_eq!(
        candidates(&run.stdout, "'with sp"),
        ["with\\ space.png"],
        "{}",
        run.describe()
    );
    assert_eq!(candidates(&run.stdout, "sub\\ d"), ["sub\\ dir/"], "{}", run.describe());
}

/// The install command of `capfile completions --help` puts the script where
/// bash-completion finds it on first use, also with XDG_DATA_HOME set.
#[test]
fn bash_finds_the_script_where_the_help_installs_it() {
    if !tools::available("bash", "bash") || !tools::file_available(Path::new(BASH_COMPLETION), "bash-completion") {
        return;
    }
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let setup = Setup::new();
    for xdg in [true, false] {
        let data = setup.path().join(if xdg { "xdg-data" } else { ".local/share" });
        let mut command = setup.shell("bash");
        // tools::run sets XDG_DATA_HOME to $HOME/.local/share; the script
        // points it elsewhere, or unsets it for the default.
        let xdg_line = match xdg {
            true => format!("export XDG_DATA_HOME={}", data.display()),
            false => "unset XDG_DATA_HOME".to_string(),
        };
        command.args(["--noprofile", "--norc", "-c"]).arg(format!(
            "{xdg_line}\n{}\nsource {BASH_COMPLETION} || exit 10\n__load_completion capfile || exit 11\ncomplete -p capfile",
            capfile::testing::cli::help::BASH_INSTALL
        ));
        let run = tools::run(&mut command, setup.path());
        assert!(
            data.join("bash-completion/completions/capfile").is_file(),
            "xdg {xdg}: {}",
            run.describe()
        );
        assert!(
            run.status.success() && run.stdout.contains(" capfile"),
            "xdg {xdg}: {}",
            run.describe()
        );
    }
}

#[test]
fn fish_completes_from_the_committed_script() {
    if !tools::available("fish", "fish") {
        return;
    }
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let setup = Setup::new();
    let run = tools::run(
        setup
            .shell("fish")
            .args(["--no-config", "-c"])
            .arg(
                r#"source $argv[1]; or exit 10
            for line in $argv[2..-1]
                echo "== $line"
                complete -C "$line"
            end"#,
            )
            .arg(script("capfile.fish"))
            .args(LINES),
        setup.path(),
    );
    assert_clean("fish", &run);
    assert_eq!(candidates(&run.stdout, "capfile up"), ["upload"], "{}", run.describe());
    assert_eq!(
        candidates(&run.stdout, "capfile upload --js"),
        ["--json"],
        "{}",
        run.describe()
    );
    let actions = candidates(&run.stdout, "capfile config ");
    for action in ["list", "get", "set", "unset", "profiles", "path", "delete-profile"] {
        assert!(actions.contains(&action), "{action}: {}", run.describe());
    }
    // The descriptions come along.
    assert!(
        lines(&run).contains(&"upload\tUpload images to the file service"),
        "{}",
        run.describe()
    );
    assert_setup_candidates("fish", &run, "sub dir/", |line| {
        candidates(&run.stdout, line).into_iter().map(String::from).collect()
    });
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
    let setup = Setup::new();
    let fpath = setup.path().join("site-functions");
    std::fs::create_dir(&fpath).unwrap();
    std::fs::copy(script("_capfile"), fpath.join("_capfile")).unwrap();
    let init = setup.path().join("init.zsh");
    std::fs::write(&init, ZSH_INIT).unwrap();
    let mut outputs = Vec::new();
    for (i, line) in LINES.iter().enumerate() {
        let matches = setup.path().join(format!("matches-{i}"));
        let run = tools::run(
            setup
                .shell("zsh")
                .args(["-f", "-c", ZSH_DRIVER, "zsh"])
                .arg(&init)
                .arg(line)
                .env("CAPFILE_FPATH", &fpath)
                .env("CAPFILE_MATCHES", &matches),
            setup.path(),
        );
        assert!(run.status.success(), "{line}: {}", run.describe());
        assert_eq!(
            lines(&run).last(),
            Some(&"<done>"),
            "zsh completing {line:?}: {}",
            run.describe()
        );
        let found: Vec<String> = lines(&run)
            .iter()
            .filter(|l| **l != "<done>")
            .map(|l| l.to_string())
            .collect();
        outputs.push((*line, found, run));
    }
    let candidates = |line: &str| -> Vec<String> {
        outputs
            .iter()
            .find(|(l, _, _)| *l == line)
            .map(|(_, found, _)| found.clone())
            .unwrap_or_default()
    };
    let run = &outputs[0].2;
    assert_eq!(candidates("capfile up"), ["upload"], "{}", run.describe());
    assert_eq!(candidates("capfile upload --js"), ["--json"], "{}", run.describe());
    let actions = candidates("capfile config ");
    for action in ["list", "get", "set", "unset", "profiles", "path"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    let described = outputs
        .iter()
        .map(|(line, found, _)| format!("{line:?}: {found:?}"))
        .collect::<Vec<_>>()
        .join("\n");
    // zsh adds the `/` of a directory as a suffix of its own, and offers a
    // name with a space as one word, quoted for the command line.
    assert_setup_candidates("zsh", run, "sub dir", |line| {
        let found = candidates(line);
        assert!(!found.is_empty(), "{line}: {described}");
        found.iter().map(|c| c.replace("\\ ", " ")).collect()
    });
}
