//! Help that is longer than a doc comment: examples, environment variables,
//! files and exit codes.
//!
//! It is kept as rows of data rather than as finished prose because it is shown
//! in two forms: `--help` (rendered here into clap's `after_long_help`) and the
//! man pages (rendered as roff sections by the docs test, `tests/docs/man.rs`,
//! which writes `man/`). One source keeps the two from drifting apart; the
//! README repeats the tables by hand for readers on the web.
//!
//! Text here is ASCII and every rendered line fits in 80 columns, so that clap
//! never re-wraps an example on an ordinary terminal and every `man` renders
//! the pages without a warning (a unit test below holds both).

use std::fmt::Write as _;

use clap::builder::styling::Styles;

/// One command line worth copying, with what it does.
#[derive(Clone, Copy, Debug)]
pub struct Example {
    /// What the command does, as a sentence without a full stop.
    pub what: &'static str,
    /// The command; a long one is split over lines ending in ` \`.
    pub command: &'static str,
}

/// A name (a variable, a file, an exit code) and what it means.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub name: &'static str,
    pub text: &'static str,
}

/// The top-level long description (`capfile --help`, and the man page's
/// DESCRIPTION).
pub(crate) const LONG_ABOUT: &str = "\
Upload images to Capillary's file service, with a local emulator of the service.

Save credentials once with `capfile login`, or set the CAPFILE_* variables
below (CI needs no files), then run `capfile upload FILE...`. With --local,
uploads go to the built-in local file service instead: no account, no network.

Standard output carries results only; progress, warnings and errors go to
standard error. Global options work before or after the subcommand.";

/// The variables capfile reads. Flags win over the environment, which wins
/// over the profile in the config file.
pub const ENVIRONMENT: &[Entry] = &[
    Entry {
        name: "CAPFILE_BASE_URL",
        text: "API host, e.g. https://eu.api.capillarytech.com (https, or plain http to a loopback host only)",
    },
    Entry {
        name: "CAPFILE_USERNAME",
        text: "Till username, for Basic auth",
    },
    Entry {
        name: "CAPFILE_PASSWORD",
        text: "Its password; capfile sends md5_hex(password) only",
    },
    Entry {
        name: "CAPFILE_PASSWORD_MD5",
        text: "The password's MD5 in hex, instead of the password",
    },
    Entry {
        name: "CAPFILE_CLIENT_KEY",
        text: "OAuth client key",
    },
    Entry {
        name: "CAPFILE_CLIENT_SECRET",
        text: "OAuth client secret",
    },
    Entry {
        name: "CAPFILE_NAMESPACE",
        text: "Namespace to upload into (default: rewards)",
    },
    Entry {
        name: "CAPFILE_AUTH",
        text: "basic or oauth (inferred when unset: oauth when only a client key is set)",
    },
    Entry {
        name: "CAPFILE_JOBS",
        text: "Uploads in flight at once, or auto (upload --jobs; default auto)",
    },
    Entry {
        name: "CAPFILE_JOBS_MAX",
        text: "The most uploads in flight with --jobs auto (upload --jobs-max; default 64)",
    },
    Entry {
        name: "CAPFILE_RETRIES",
        text: "Retries for connection errors, timeouts, 408 and 5xx (upload --retries; default 3)",
    },
    Entry {
        name: "CAPFILE_TIMEOUT",
        text: "Seconds without progress before a request fails (upload --timeout; default 60)",
    },
    Entry {
        name: "CAPFILE_OUTPUT",
        text: "table, json, url or records (upload --output; default table)",
    },
    Entry {
        name: "CAPFILE_BODY",
        text: "multipart or raw (upload --body; default multipart)",
    },
    Entry {
        name: "CAPFILE_HTTP",
        text: "auto, 1.1 or 2 (upload --http; default auto: HTTP/1.1 for uploads)",
    },
    Entry {
        name: "CAPFILE_RATE_WAIT",
        text: "Seconds one upload may wait in all for rate limits (upload --max-rate-wait; default 300)",
    },
    Entry {
        name: "CAPFILE_RATE",
        text: "Most requests to send per period, e.g. 100/min (the org's rate limit)",
    },
    Entry {
        name: "CAPFILE_MANIFEST",
        text: "Upload manifest: skip the files unchanged since they were recorded (upload --manifest)",
    },
    Entry {
        name: "CAPFILE_CA_BUNDLE",
        text: "PEM file of CA certificates trusted besides the system's, e.g. a private CA (upload --cacert)",
    },
    Entry {
        name: "CAPFILE_POLICY",
        text: "Upload policy: the [policies.NAME] rules every image must meet (upload/inspect --policy)",
    },
    Entry {
        name: "CAPFILE_PROFILE",
        text: "Profile to use (default: default)",
    },
    Entry {
        name: "CAPFILE_CONFIG",
        text: "Config file to use instead of the default one",
    },
    Entry {
        name: "CAPFILE_KEYRING",
        text: "keyutils: keep secrets in the Linux kernel keyring instead of the Secret Service (headless hosts; lost at reboot); login records it as the profile's `keyring`",
    },
    Entry {
        name: "SSL_CERT_FILE",
        text: "PEM file of CA certificates used instead of the system's (SSL_CERT_DIR: a directory of them)",
    },
    Entry {
        name: "HTTPS_PROXY",
        text: "Proxy for https:// base URLs (also https_proxy; ALL_PROXY as a fallback): http://[USER:PASSWORD@]HOST:PORT, https:// or socks5://; loopback hosts never use one",
    },
    Entry {
        name: "NO_PROXY",
        text: "Hosts that go direct: names (and their subdomains), addresses, CIDR blocks, or *",
    },
    Entry {
        name: "NO_COLOR",
        text: "If not empty: no colour, unless --color always",
    },
];

/// Said after the variables, in help and man page alike.
pub const ENVIRONMENT_NOTE: &str = "\
Flags win over these variables, and they win over the profile in config.toml.
A secret from the environment wins over the keyring and the credentials file,
and the keyring is then not touched.";

/// The files capfile reads and writes, named as on Linux.
pub const FILES: &[Entry] = &[
    Entry {
        name: "$XDG_CONFIG_HOME/capfile/config.toml",
        text: "Profiles and settings, as [profiles.NAME] tables; `capfile config path` prints where it is",
    },
    Entry {
        name: "$XDG_CONFIG_HOME/capfile/credentials.toml",
        text: "Secrets saved by `capfile login --insecure-storage`, mode 0600",
    },
    Entry {
        name: "$XDG_DATA_HOME/capfile/emulator/",
        text: "Files and versions of the local file service (serve, upload --local)",
    },
];

/// Said after the files: where they are elsewhere.
pub const FILES_NOTE: &str = "\
XDG_CONFIG_HOME defaults to ~/.config and XDG_DATA_HOME to ~/.local/share.
On macOS both directories are ~/Library/Application Support/capfile; on
Windows they are %APPDATA%\\capfile\\config and %APPDATA%\\capfile\\data.";

/// The exit statuses of every command.
pub const EXIT_STATUS: &[Entry] = &[
    Entry {
        name: "0",
        text: "everything asked for succeeded",
    },
    Entry {
        name: "1",
        text: "failure: every upload failed, a server/network error, or results lost (stdout unwritable)",
    },
    Entry {
        name: "2",
        text: "usage or input error: nothing was sent",
    },
    Entry {
        name: "3",
        text: "partial: some uploads succeeded, some failed",
    },
    Entry {
        name: "4",
        text: "authentication: no credentials, or the server answered 401/403",
    },
    Entry {
        name: "130",
        text: "interrupted (Ctrl-C): uploads in flight stopped, finished ones reported; \
               `upload` stopped by SIGTERM exits 143, by SIGHUP 129, the same way",
    },
];

pub(crate) const TOP_EXAMPLES: &[Example] = &[
    Example {
        what: "Save credentials once (prompts; the secret goes to the OS keyring)",
        command: "capfile login",
    },
    Example {
        what: "Upload two images: a table of name, version and secure URL",
        command: "capfile upload a.png b.jpg",
    },
    Example {
        what: "Try it with no account and no network: the local file service",
        command: "capfile upload --local a.png",
    },
    Example {
        what: "In CI, with credentials from the environment, print the secure URL",
        command: "export CAPFILE_BASE_URL=https://eu.api.capillarytech.com\n\
                  export CAPFILE_USERNAME=store123 CAPFILE_PASSWORD=\"$TILL_PASSWORD\"\n\
                  capfile upload -o url banner.png",
    },
    Example {
        what: "Install completions for bash (profiles, settings, image files)",
        command: BASH_INSTALL,
    },
];

pub(crate) const UPLOAD_EXAMPLES: &[Example] = &[
    Example {
        what: "Upload two images: a table of name, version and secure URL",
        command: "capfile upload a.png b.jpg",
    },
    Example {
        what: "Keep only the secure URL, from the server's JSON",
        command: "capfile upload a.png --json | jq -r .secureFilePath",
    },
    Example {
        what: "Upload a directory's images, 8 at a time, one secure URL per line",
        command: "capfile upload -r images/ -j 8 -o url",
    },
    Example {
        what: "Upload standard input (it needs a remote name)",
        command: "cat a.png | capfile upload - --name a.png",
    },
    Example {
        what: "Create a placeholder: no body is sent",
        command: "capfile upload --placeholder banner.png",
    },
    Example {
        what: "Check inputs and credentials, and show what would be sent",
        command: "capfile upload --dry-run *.png",
    },
    Example {
        what: "Upload with the staging profile into another namespace",
        command: "capfile -p staging upload -n solutions a.png",
    },
    Example {
        what: "Stay within an org limit of 100 requests a minute: no 429 at all",
        command: "capfile upload --rate 100/min -r images/",
    },
    Example {
        what: "Upload to the built-in local file service",
        command: "capfile upload --local a.png",
    },
    Example {
        what: "Keep a record per input (NDJSON, see above)",
        command: "capfile upload -r images/ --report r.ndjson",
    },
    Example {
        what: "List the inputs whose latest record failed (--retry-from appends records)",
        command: "jq -rs 'group_by(.input) | map(last) | .[]\n\
                  | select(.outcome == \"failed\") | .input' r.ndjson",
    },
    Example {
        what: "Upload again only what failed or was not attempted",
        command: "capfile upload --retry-from r.ndjson --report r.ndjson",
    },
];

pub(crate) const LOGIN_EXAMPLES: &[Example] = &[
    Example {
        what: "Prompt for host, auth kind, username and (hidden) password",
        command: "capfile login",
    },
    Example {
        what: "Basic auth without prompts; the password comes on standard input",
        command: "printf '%s' \"$TILL_PASSWORD\" | capfile login \\\n    \
                  --base-url https://eu.api.capillarytech.com \\\n    \
                  --username store123 --password-stdin",
    },
    Example {
        what: "OAuth for a profile named ci",
        command: "printf '%s' \"$CLIENT_SECRET\" | capfile -p ci login --auth oauth \\\n    \
                  --client-key KEY --client-secret-stdin",
    },
    Example {
        what: "Where no keyring is reachable (a container): a 0600 file instead",
        command: "printf '%s' \"$TILL_PASSWORD\" | capfile login --username store123 \\\n    \
                  --password-stdin --insecure-storage",
    },
];

pub(crate) const LOGOUT_EXAMPLES: &[Example] = &[
    Example {
        what: "Forget the secret of the default profile",
        command: "capfile logout",
    },
    Example {
        what: "Forget the secret of the ci profile",
        command: "capfile -p ci logout",
    },
];

pub(crate) const CONFIG_EXAMPLES: &[Example] = &[
    Example {
        what: "Show every effective setting and where it came from",
        command: "capfile config list",
    },
    Example {
        what: "Read the value an upload would use now, in a script",
        command: "ns=$(capfile config get namespace)",
    },
    Example {
        what: "Set a value in the staging profile",
        command: "capfile -p staging config set base_url https://eu.api.capillarytech.com",
    },
    Example {
        what: "Go back to the default",
        command: "capfile config unset jobs",
    },
    Example {
        what: "List the profiles, and edit the file by hand",
        command: "capfile config profiles\n\"$EDITOR\" \"$(capfile config path)\"",
    },
];

pub(crate) const SERVE_EXAMPLES: &[Example] = &[
    Example {
        what: "Run the local file service on 127.0.0.1:7878",
        command: "capfile serve",
    },
    Example {
        what: "Pick a free port, and keep the files in ./files",
        command: "capfile serve --addr 127.0.0.1:0 --data ./files",
    },
    Example {
        what: "Rehearse retries: 30% of uploads get 503 with Retry-After, 5% dropped",
        command: "capfile serve --fail-rate 0.3 --retry-after 1 --drop-rate 0.05",
    },
    Example {
        what: "Rehearse a rate limit: 100 uploads a minute, 429 without Retry-After",
        command: "capfile serve --rate-limit 100/min",
    },
    Example {
        what: "Upload to it from another shell",
        command: "capfile upload --local a.png",
    },
];

/// Where bash-completion looks for a user's completions: under
/// $XDG_DATA_HOME, which defaults to ~/.local/share.
pub const BASH_INSTALL: &str = "dir=${XDG_DATA_HOME:-$HOME/.local/share}/bash-completion/completions\n\
                                mkdir -p \"$dir\" && capfile completions bash > \"$dir/capfile\"";

/// Where fish looks for a user's completions: under $XDG_CONFIG_HOME, which
/// defaults to ~/.config.
pub const FISH_INSTALL: &str = "dir=${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions\n\
                                mkdir -p \"$dir\" && capfile completions fish > \"$dir/capfile.fish\"";

pub(crate) const COMPLETIONS_EXAMPLES: &[Example] = &[
    Example {
        what: "bash (needs the bash-completion package, which looks here)",
        command: BASH_INSTALL,
    },
    Example {
        what: "zsh: a directory on $fpath, before compinit runs in ~/.zshrc",
        command: "mkdir -p ~/.zfunc && capfile completions zsh > ~/.zfunc/_capfile\n\
                  echo 'fpath=(~/.zfunc $fpath); autoload -U compinit; compinit' >> ~/.zshrc",
    },
    Example {
        what: "fish (it loads the script on first use)",
        command: FISH_INSTALL,
    },
    Example {
        what: "PowerShell",
        command: "capfile completions powershell >> $PROFILE",
    },
    Example {
        what: "elvish",
        command: "capfile completions elvish >> ~/.config/elvish/rc.elv",
    },
];

pub(crate) const STATUS_EXAMPLES: &[Example] = &[
    Example {
        what: "Is the default profile ready to upload?",
        command: "capfile status",
    },
    Example {
        what: "Every profile, as JSON for a script",
        command: "capfile status --all --json | jq '.profiles[] | {profile, exit}'",
    },
];

pub(crate) const INSPECT_EXAMPLES: &[Example] = &[
    Example {
        what: "What each image is: format, size, colour model, frames, EXIF, GPS",
        command: "capfile inspect art/*.png art/*.jpg",
    },
    Example {
        what: "Check a folder against a policy before uploading it",
        command: "capfile inspect -r art/ --policy reward-art",
    },
    Example {
        what: "The animated images of a folder, with jq",
        command: "capfile inspect -r art/ --json | jq -r 'select(.animated) | .file'",
    },
    Example {
        what: "Define a policy: square reward art under 200 KB, RGB, no animation",
        command: "capfile config set policies.reward-art.aspect 1:1 && capfile config set policies.reward-art.max_bytes 200000",
    },
];

/// The examples of a command, by its name (`capfile` for the top level).
pub fn examples(command: &str) -> &'static [Example] {
    match command {
        "capfile" => TOP_EXAMPLES,
        "upload" => UPLOAD_EXAMPLES,
        "login" => LOGIN_EXAMPLES,
        "logout" => LOGOUT_EXAMPLES,
        "config" => CONFIG_EXAMPLES,
        "serve" => SERVE_EXAMPLES,
        "completions" => COMPLETIONS_EXAMPLES,
        "status" => STATUS_EXAMPLES,
        "inspect" => INSPECT_EXAMPLES,
        _ => &[],
    }
}

/// Under the policy rules in `config --help`.
const POLICY_NOTE: &str = "\
A policy is a [policies.NAME] table of these rules in config.toml. An upload
uses --policy, else CAPFILE_POLICY, else the profile's policy.NAMESPACE for
its namespace, else the profile's `policy`. `config set policy.NAMESPACE NAME`
sets the profile's policy for one namespace.";

/// What `capfile --help` shows after the options.
pub(crate) fn top_level() -> String {
    let mut text = String::new();
    entries(&mut text, "Environment:", ENVIRONMENT, Some(ENVIRONMENT_NOTE));
    text.push('\n');
    entries(&mut text, "Files:", FILES, Some(FILES_NOTE));
    text.push('\n');
    entries(&mut text, "Exit codes:", EXIT_STATUS, None);
    text.push('\n');
    example_list(&mut text, TOP_EXAMPLES);
    finish(text)
}

/// What a subcommand's `--help` shows after its options: its examples.
pub(crate) fn subcommand(name: &str) -> String {
    let mut text = String::new();
    if name == "config" {
        let rules: Vec<Entry> = crate::policy::Rule::ALL
            .iter()
            .map(|rule| Entry {
                name: rule.name(),
                text: rule.spec().help,
            })
            .collect();
        entries(
            &mut text,
            "Policy rules (policies.NAME.RULE):",
            &rules,
            Some(POLICY_NOTE),
        );
        text.push('\n');
    }
    example_list(&mut text, examples(name));
    finish(text)
}

fn heading(text: &mut String, title: &str) {
    let style = Styles::default().get_header().to_owned();
    let _ = writeln!(text, "{style}{title}{style:#}");
}

/// A two-column list. Wide names (file paths) get their text on the next line;
/// long text is wrapped at word boundaries to stay inside 80 columns.
fn entries(text: &mut String, title: &str, rows: &[Entry], note: Option<&str>) {
    heading(text, title);
    let narrow = rows.iter().all(|row| row.name.len() <= 24);
    let column = if narrow {
        rows.iter().map(|row| row.name.len()).max().unwrap_or(0) + 4
    } else {
        8
    };
    for row in rows {
        let mut first_line_used = false;
        let _ = write!(text, "  {}", row.name);
        if narrow {
            let pad = column - 2 - row.name.len();
            text.push_str(&" ".repeat(pad));
            first_line_used = true;
        }
        for (i, line) in wrap(row.text, 80 - column).iter().enumerate() {
            if i > 0 || !first_line_used {
                text.push('\n');
                text.push_str(&" ".repeat(column));
            }
            text.push_str(line);
        }
        text.push('\n');
    }
    if let Some(note) = note {
        text.push('\n');
        for line in note.lines() {
            let _ = writeln!(text, "  {line}");
        }
    }
}

fn example_list(text: &mut String, examples: &[Example]) {
    if examples.is_empty() {
        return;
    }
    heading(text, "Examples:");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let _ = writeln!(text, "  # {}", example.what);
        for line in example.command.lines() {
            let _ = writeln!(text, "  {line}");
        }
    }
}

/// clap adds its own blank line before the text and none after it.
fn finish(mut text: String) -> String {
    while text.ends_with('\n') {
        text.pop();
    }
    text
}

/// What `capfile NAME -h` shows after the options: the first examples (one
/// line each, without their sentence) and where the rest is.
pub(crate) fn short_subcommand(name: &str) -> String {
    let mut text = String::new();
    let examples = examples(name);
    if !examples.is_empty() {
        heading(&mut text, "Examples:");
        for example in examples.iter().take(3) {
            let _ = writeln!(text, "  {}", example.command.lines().next().unwrap_or_default());
        }
        text.push('\n');
    }
    let _ = writeln!(
        text,
        "Run `capfile {name} --help` for every detail and more examples, or `man capfile-{name}`."
    );
    finish(text)
}

/// Greedy word wrap; a word longer than the width gets a line of its own.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(styled: &str) -> String {
        // Drop the ANSI escapes of the headings.
        let mut out = String::new();
        let mut chars = styled.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn all_help() -> Vec<String> {
        let mut all = vec![top_level(), LONG_ABOUT.to_owned()];
        for name in ["upload", "login", "logout", "config", "serve", "completions", "status"] {
            all.push(subcommand(name));
        }
        all.into_iter().map(|text| plain(&text)).collect()
    }

    #[test]
    fn help_fits_in_80_columns_and_is_ascii() {
        for text in all_help() {
            for line in text.lines() {
                assert!(line.len() <= 80, "longer than 80 columns: {line:?}");
                assert!(line.is_ascii(), "not ASCII: {line:?}");
            }
        }
    }

    #[test]
    fn top_level_help_has_every_section_and_variable() {
        let text = plain(&top_level());
        for title in ["Environment:", "Files:", "Exit codes:", "Examples:"] {
            assert!(text.contains(title), "{title} missing");
        }
        for name in [
            "CAPFILE_BASE_URL",
            "CAPFILE_USERNAME",
            "CAPFILE_PASSWORD",
            "CAPFILE_PASSWORD_MD5",
            "CAPFILE_CLIENT_KEY",
            "CAPFILE_CLIENT_SECRET",
            "CAPFILE_NAMESPACE",
            "CAPFILE_RATE",
            "CAPFILE_PROFILE",
            "CAPFILE_CONFIG",
            "CAPFILE_KEYRING",
            "NO_COLOR",
        ] {
            assert!(text.lines().any(|l| l.trim_start().starts_with(name)), "{name} missing");
        }
    }

    #[test]
    fn exit_codes_match_the_error_module() {
        use crate::exit::Exit;
        let codes: Vec<u8> = EXIT_STATUS.iter().map(|e| e.name.parse().unwrap()).collect();
        let exits = [
            Exit::Success,
            Exit::Failure,
            Exit::Usage,
            Exit::Partial,
            Exit::Auth,
            Exit::Interrupted,
        ];
        assert_eq!(codes, exits.map(Exit::code).to_vec());
    }

    #[test]
    fn subcommand_help_ends_with_examples() {
        for name in ["upload", "login", "config", "inspect"] {
            let text = plain(&subcommand(name));
            // `config` lists the policy rules first.
            let text = match text.strip_prefix("Policy rules (policies.NAME.RULE):\n") {
                Some(rest) if name == "config" => &rest[rest.find("Examples:\n").unwrap_or(0)..],
                _ => text.as_str(),
            };
            assert!(text.starts_with("Examples:\n  # "), "{name}: {text}");
            let last = text.lines().last().unwrap_or_default();
            assert!(last.starts_with("  ") && !last.starts_with("  #"), "{name}: {text}");
        }
    }

    #[test]
    fn wrap_breaks_at_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("", 6), Vec::<String>::new());
    }
}
