//! The man pages: `capfile.1` and one page per subcommand, built with
//! clap_mangen from the clap definitions, plus the sections clap does not know
//! about (environment, files, exit status, examples, see also) from the help
//! module's rows. `config`'s actions are described on `capfile-config.1`
//! rather than on pages of their own.

use std::io::Write as _;
use std::process::Command;

use capfile::testing::cli::help::{self, Entry};
use clap::CommandFactory;
use clap_mangen::Man;
use roff::{Roff, bold, italic, roman};

use crate::generated::{GENERATED_DIRS, TREE, committed};
use crate::tools::{self, repo};

/// Every page, by file name.
pub fn pages() -> Vec<(String, String)> {
    let mut cmd = capfile::testing::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let subcommands: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
        .collect();
    let names: Vec<&str> = subcommands.iter().map(|sub| sub.get_name()).collect();
    let mut pages = vec![("capfile.1".to_owned(), page(&cmd, "capfile", &names))];
    for sub in subcommands {
        let name = sub.get_name();
        pages.push((format!("capfile-{name}.1"), page(sub, name, &names)));
    }
    pages
}

fn page(cmd: &clap::Command, name: &str, all: &[&str]) -> String {
    let top = name == "capfile";
    let man = Man::new(cmd.clone())
        .manual("capfile manual")
        .source(format!("capfile {}", env!("CARGO_PKG_VERSION")));
    let mut parts = Vec::new();
    let mut part = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut out = Vec::new();
        render(&mut out).unwrap();
        parts.push(String::from_utf8(out).unwrap());
    };
    part(&|w| man.render_title(w));
    // No hyphenation (option names, variables and paths must not be split),
    // and a ragged right edge rather than wide gaps around long URLs.
    part(&|w| w.write_all(b".nh\n.ad l\n"));
    part(&|w| man.render_name_section(w));
    part(&|w| {
        let mut roff = Roff::new();
        synopsis(&mut roff, cmd, name);
        w.write_all(roff.render().as_bytes())
    });
    part(&|w| man.render_description_section(w));
    part(&|w| man.render_options_section(w));
    if top {
        part(&|w| man.render_subcommands_section(w));
    }

    let mut roff = Roff::new();
    if name == "config" {
        actions(&mut roff, cmd);
    }
    if top || name == "upload" {
        entries(&mut roff, "EXIT STATUS", help::EXIT_STATUS, None);
    }
    if top {
        entries(
            &mut roff,
            "ENVIRONMENT",
            help::ENVIRONMENT,
            Some(help::ENVIRONMENT_NOTE),
        );
        entries(&mut roff, "FILES", help::FILES, Some(help::FILES_NOTE));
    }
    examples(&mut roff, help::examples(name));
    see_also(&mut roff, name, all);
    parts.push(roff.render());

    // Each rendered part starts with the same preamble (it defines the
    // apostrophe string); the page needs it once.
    let preamble = preamble();
    let mut page = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            page.push_str(part);
        } else {
            page.push_str(part.strip_prefix(&preamble).unwrap_or(part));
        }
    }
    page
}

fn preamble() -> String {
    Roff::new().render()
}

/// `capfile-config.1` describes each action, with its arguments.
fn actions(roff: &mut Roff, cmd: &clap::Command) {
    roff.control("SH", ["ACTIONS"]);
    for action in cmd.get_subcommands().filter(|a| a.get_name() != "help") {
        let own_args: Vec<&clap::Arg> = action
            .get_arguments()
            .filter(|a| !a.is_global_set() && !matches!(a.get_id().as_str(), "help" | "version"))
            .collect();
        let mut header = vec![bold(format!("capfile config {}", action.get_name()))];
        for arg in &own_args {
            if arg.is_positional() {
                header.push(roman(" "));
                header.push(italic(value_name(arg)));
            } else if let Some(long) = arg.get_long() {
                header.push(roman(" ["));
                header.push(bold(format!("--{long}")));
                header.push(roman("]"));
            }
        }
        roff.control("TP", []);
        roff.text(header);
        if let Some(about) = action.get_long_about().or_else(|| action.get_about()) {
            roff.text([roman(about.to_string())]);
        }
        for arg in &own_args {
            let Some(text) = arg.get_help() else { continue };
            let name = if arg.is_positional() {
                italic(value_name(arg))
            } else {
                bold(format!("--{}", arg.get_long().unwrap_or_default()))
            };
            roff.control("br", []);
            roff.text([name, roman(format!(": {text}"))]);
        }
    }
}

/// The SYNOPSIS: every option with its value name (`[-j|--jobs N]`), `...`
/// after what may repeat, optional parts in brackets. clap_mangen's own
/// leaves out the value names.
fn synopsis(roff: &mut Roff, cmd: &clap::Command, name: &str) {
    roff.control("SH", ["SYNOPSIS"]);
    let title = if name == "capfile" {
        "capfile".to_owned()
    } else {
        format!("capfile {name}")
    };
    let mut line = vec![bold(title)];
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let repeats = matches!(arg.get_action(), clap::ArgAction::Append | clap::ArgAction::Count)
            || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        let dots = if repeats { "..." } else { "" };
        line.push(roman(" "));
        if arg.is_positional() {
            let value = italic(value_name(arg));
            if arg.is_required_set() {
                line.extend([value, roman(dots)]);
            } else {
                line.extend([roman("["), value, roman(format!("]{dots}"))]);
            }
            continue;
        }
        line.push(roman("["));
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("-{short}"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("--{long}"));
        }
        for (i, flag) in names.into_iter().enumerate() {
            if i > 0 {
                line.push(roman("|"));
            }
            line.push(bold(flag));
        }
        if arg.get_action().takes_values() {
            line.extend([roman(" "), italic(value_name(arg))]);
        }
        line.push(roman(format!("]{dots}")));
    }
    if cmd.has_subcommands() {
        line.extend([roman(" "), italic("COMMAND"), roman(" ...")]);
    }
    roff.text(line);
}

fn value_name(arg: &clap::Arg) -> String {
    arg.get_value_names()
        .map(|names| names.join(" "))
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}

fn entries(roff: &mut Roff, title: &str, rows: &[Entry], note: Option<&str>) {
    roff.control("SH", [title]);
    for row in rows {
        roff.control("TP", []);
        roff.text([bold(row.name)]);
        roff.text([roman(row.text)]);
    }
    if let Some(note) = note {
        roff.control("PP", []);
        roff.text([roman(note.replace('\n', " "))]);
    }
}

fn examples(roff: &mut Roff, examples: &[help::Example]) {
    if examples.is_empty() {
        return;
    }
    roff.control("SH", ["EXAMPLES"]);
    for example in examples {
        roff.control("PP", []);
        roff.text([roman(example.what)]);
        roff.control("PP", []);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in example.command.lines() {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
    }
}

fn see_also(roff: &mut Roff, name: &str, all: &[&str]) {
    let mut refs: Vec<String> = Vec::new();
    if name != "capfile" {
        refs.push("capfile".into());
    }
    refs.extend(all.iter().filter(|n| **n != name).map(|n| format!("capfile-{n}")));
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, page) in refs.iter().enumerate() {
        if i > 0 {
            line.push(roman(", "));
        }
        line.push(bold(page.as_str()));
        line.push(roman("(1)"));
    }
    roff.text(line);
}

#[test]
fn man_pages_are_ascii() {
    // Any `man`, in any locale, renders them the same.
    for (name, page) in pages() {
        assert!(page.is_ascii(), "{name} is not ASCII");
    }
}

#[test]
fn every_committed_man_page_renders_without_warnings() {
    if !tools::available("man", "man (man-db)") {
        return;
    }
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let pages: Vec<_> = committed(repo(), &GENERATED_DIRS)
        .into_iter()
        .filter(|p| p.starts_with("man"))
        .collect();
    assert!(
        pages.len() >= 7,
        "expected capfile.1 and a page per subcommand: {pages:?}"
    );
    let home = tempfile::tempdir().unwrap();
    for page in pages {
        let run = tools::run(
            Command::new("man")
                .args(["--warnings", "-l"])
                .arg(repo().join(&page))
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .env("MANWIDTH", "80"),
            home.path(),
        );
        assert!(
            run.status.success() && run.stderr.is_empty(),
            "man --warnings -l {}:\n{}",
            page.display(),
            run.describe()
        );
        assert!(run.stdout.contains("SYNOPSIS"), "{}:\n{}", page.display(), run.stdout);
        if page.ends_with("capfile.1") {
            for section in [
                "EXIT STATUS",
                "ENVIRONMENT",
                "CAPFILE_PASSWORD_MD5",
                "NO_COLOR",
                "EXAMPLES",
            ] {
                assert!(
                    run.stdout.contains(section),
                    "capfile.1 lacks {section}:\n{}",
                    run.stdout
                );
            }
        }
    }
}
