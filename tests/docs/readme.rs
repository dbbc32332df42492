//! The README's commands, run as written: the completion installs for bash,
//! zsh and fish in a throwaway home (with and without the XDG variables set),
//! and the `jq` lines that read a report after `--retry-from` appended to it.
//! The help's completion examples are the README's lines, word for word.

use std::path::Path;
use std::process::Command;

use capfile::testing::cli::help;

use crate::tools::{self, repo};

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The indented code block that follows the line `after` in the README.
fn block_after(readme: &str, after: &str) -> Vec<String> {
    let start = readme
        .find(after)
        .unwrap_or_else(|| panic!("README has no line {after:?}"));
    readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.starts_with("    "))
        .map(|l| l[4..].to_owned())
        .collect()
}

/// Runs `script` in bash with capfile first on PATH, in `home`.
fn bash(script: &str, home: &Path, xdg: &[(&str, &Path)]) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_capfile")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", script])
        .env("PATH", path)
        .env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .current_dir(home);
    for (name, value) in xdg {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

#[test]
fn the_completion_installs_work_as_written() {
    let readme = readme();
    let lines = block_after(&readme, "For example:");
    assert!(lines.len() >= 4, "{lines:?}");
    let script = lines.join("\n");
    for with_xdg in [false, true] {
        let home = tempfile::tempdir().unwrap();
        let (data, config) = (home.path().join("xdg-data"), home.path().join("xdg-config"));
        let xdg: Vec<(&str, &Path)> = if with_xdg {
            vec![("XDG_DATA_HOME", &data), ("XDG_CONFIG_HOME", &config)]
        } else {
            Vec::new()
        };
        let out = bash(&script, home.path(), &xdg);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (data, config) = if with_xdg {
            (data.clone(), config.clone())
        } else {
            (home.path().join(".local/share"), home.path().join(".config"))
        };
        for (file, marker) in [
            (data.join("bash-completion/completions/capfile"), "capfile"),
            (home.path().join(".zfunc/_capfile"), "#compdef capfile"),
            (config.join("fish/completions/capfile.fish"), "complete"),
        ] {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(text.contains(marker), "{}", file.display());
        }
    }
    // `capfile completions --help` shows the same lines.
    for install in [help::BASH_INSTALL, help::FISH_INSTALL] {
        assert!(script.contains(install), "README lacks the help's {install:?}");
    }
}

#[test]
fn the_report_jq_lines_take_each_inputs_latest_record() {
    if !tools::available("jq", "jq") {
        return;
    }
    let readme = readme();
    let lines = block_after(&readme, "| `profile`, `origin`, `namespace` |");
    let jq: Vec<&String> = lines.iter().filter(|l| l.starts_with("jq ")).collect();
    assert!(jq.len() >= 2, "{lines:?}");
    let home = tempfile::tempdir().unwrap();
    // A first run where b.png failed, then a --retry-from run that appended
    // its upload.
    let record = |input: &str, outcome: &str| {
        format!(
            "{{\"schema\":1,\"input\":\"{input}\",\"name\":\"{input}\",\"outcome\":\"{outcome}\",\
             \"error\":null,\"request_id\":null}}\n"
        )
    };
    let report = [
        record("a.png", "uploaded"),
        record("b.png", "failed"),
        record("c.png", "failed"),
        record("b.png", "uploaded"),
    ]
    .concat();
    std::fs::write(home.path().join("r.ndjson"), report).unwrap();
    let out = bash(
        &jq.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n"),
        home.path(),
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("c.png\t"), "only c.png's latest record failed: {text}");
    let counts: serde_json::Value = serde_json::from_str(text.lines().skip(1).collect::<String>().as_str()).unwrap();
    assert_eq!(counts, serde_json::json!({"failed": 1, "uploaded": 2}), "{text}");
}
