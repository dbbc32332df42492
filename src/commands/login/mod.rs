//! `capfile login`: saves a profile's credentials. The settings (base URL, auth
//! kind, username or client key) go to `config.toml`; the secret goes to the OS
//! keyring, or with `--insecure-storage` to `credentials.toml` (mode 0600).
//!
//! On a terminal it asks for whatever the flags did not give, the secret with
//! hidden input. Otherwise it takes the flags and reads the secret from
//! standard input (`--password-stdin`, `--client-secret-stdin`): no flag takes
//! a secret as an argument, where `ps` and shell history would keep it. Basic
//! keeps `md5_hex(password)`, never the password.
//!
//! The secret is saved bound to the base URL's origin and to the username or
//! client key: uploads send it nowhere else (see `credentials`).
//!
//! Nothing is saved until everything is known and, for OAuth, the token
//! endpoint has accepted the key and secret. The secret is saved before the
//! settings, so when the keyring cannot be reached both files stay as they were.

mod error;

use std::io::{self, BufRead, IsTerminal, Read};
use std::time::Duration;

use url::Url;

pub(crate) use self::error::LoginError;
use crate::api::{FileService, Route};
use crate::cli::LoginArgs;
use crate::config_file::{self, Config, Paths, Profile};
use crate::credentials::file::CredentialsFile;
use crate::credentials::keyring::Keyring;
use crate::credentials::{self, Binding, Credentials, Secret, SecretKind, SecretStore};
use crate::error::{Error, Exit};
use crate::output::Printer;
use crate::settings::{self, AuthKind, Env, FileValues, Flags, Key, Origin, Value, choice_name};

/// How long the OAuth check may take without progress.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
/// The most a secret read from standard input may be.
const MAX_SECRET: u64 = 64 * 1024;

/// Runs `capfile login`.
pub(crate) fn run(args: LoginArgs, ctx: &super::Context) -> Result<Exit, Error> {
    let (env, printer) = (&ctx.env, &ctx.printer);
    let paths = ctx.paths()?;
    let profile = ctx.profile()?;
    let config = ctx.config()?;
    let existing = config.get(&profile.name).cloned().unwrap_or_default();
    let ask = Asker {
        printer,
        interactive: !args.password_stdin && !args.client_secret_stdin && io::stdin().is_terminal(),
    };

    // On a terminal the keyring is asked before any question: with none to
    // save in, every answer would be lost. Otherwise the flags are checked
    // first, so a usage error is said as one.
    let keyring_chosen = ctx.keyring_choice(&profile.name);
    let super::Stores { keyring, file } = super::Stores::open(paths, printer, &keyring_chosen);
    let check_keyring_now = |now: bool| match now && !args.insecure_storage {
        true => check_keyring(&keyring, &profile.name, paths),
        false => Ok(()),
    };
    let on_terminal = io::stdin().is_terminal();
    check_keyring_now(on_terminal)?;

    let base_url = base_url(&args, &existing, env, &ask)?;
    let auth = auth_kind(&args, &existing, &ask)?;
    let identity = identity(&args, auth, &existing, env, &ask)?;
    let secret = read_secret(&args, auth, &ask)?;
    check_keyring_now(!on_terminal)?;
    let credentials = match auth {
        AuthKind::Basic => Credentials::Basic {
            username: identity.clone(),
            password_md5: credentials::md5_hex(secret.expose()),
        },
        AuthKind::Oauth => Credentials::OAuth {
            client_key: identity.clone(),
            client_secret: secret,
        },
    };
    if auth == AuthKind::Oauth {
        check_oauth(&base_url, &credentials, &identity, env, printer)?;
    }

    let kind = SecretKind::for_auth(auth);
    let secret = match &credentials {
        Credentials::Basic { password_md5, .. } => password_md5,
        Credentials::OAuth { client_secret, .. } => client_secret,
    };
    // The secret will be sent only to this origin, with this identity.
    let binding = Binding::new(&base_url, &identity);
    let stored_in = store_secret(&args, &profile.name, kind, secret, &binding, (&keyring, &file), ctx)?;

    let keyring_used = (!args.insecure_storage).then_some(keyring_chosen.as_str());
    save_settings(config, &profile, &base_url, auth, &identity, keyring_used)?;
    let settings_in = paths.config.display();
    let who = match auth {
        AuthKind::Basic => format!("user `{identity}`"),
        AuthKind::Oauth => format!("client key `{identity}`"),
    };
    printer.note(&format!(
        "logged in: profile `{}`, {who} at {}; settings saved in {settings_in}, secret saved in {stored_in}",
        profile.name,
        stored_url(&base_url)
    ));
    if auth == AuthKind::Basic {
        printer.note(BASIC_NOT_CHECKED);
    }
    Ok(Exit::Success)
}

/// Saves the secret in the keyring (or, with `--insecure-storage`, in
/// `credentials.toml`) and removes an older copy from the other store, which
/// would shadow it or is no longer needed; says where it was saved.
fn store_secret(
    args: &LoginArgs,
    profile: &str,
    kind: SecretKind,
    secret: &Secret,
    binding: &Binding,
    (keyring, file): (&Keyring, &CredentialsFile),
    ctx: &super::Context,
) -> Result<String, Error> {
    let (paths, printer) = (ctx.paths()?, &ctx.printer);
    Ok(if args.insecure_storage {
        file.set(profile, kind, secret, binding).map_err(|e| e.into_error())?;
        // The keyring is read before the file, so an older secret there would
        // shadow this one.
        match keyring.delete(profile) {
            Ok(true) => printer.note(&format!(
                "removed the older secret of profile `{}` from {}",
                profile,
                keyring.describe()
            )),
            Ok(false) => {}
            Err(err) => printer.detail(1, &format!("{err}; no older secret removed from it")),
        }
        format!("{} (plain text, mode 0600)", paths.credentials.display())
    } else {
        keyring
            .set(profile, kind, secret, binding)
            .map_err(|cause| LoginError::Keyring {
                cause,
                credentials_file: paths.credentials.clone(),
            })?;
        // A plain-text copy from an earlier `--insecure-storage` login is no
        // longer needed.
        match file.delete(profile) {
            Ok(true) => printer.note(&format!(
                "removed the older plain-text secret of profile `{}` from {}",
                profile,
                paths.credentials.display()
            )),
            Ok(false) => {}
            Err(err) => printer.warn(&format!("{err}; the older plain-text secret was not removed")),
        }
        keyring.describe()
    })
}

/// What login and `status` say of a Basic password: the service has no
/// endpoint that checks one without creating a file.
pub(crate) const BASIC_NOT_CHECKED: &str = "the password was not checked: the file service can only check a Basic \
     password with an upload; if it is wrong, the first upload fails with 401 (exit 4) and nothing is stored";

/// Asks on the terminal, when there is one to ask on.
struct Asker<'a> {
    printer: &'a Printer,
    interactive: bool,
}

impl Asker<'_> {
    /// A line of text; an empty answer takes the default.
    fn line(&self, question: &str, default: Option<&str>) -> Result<String, Error> {
        loop {
            match default {
                Some(default) => self.printer.prompt(&format!("{question} [{default}]: ")),
                None => self.printer.prompt(&format!("{question}: ")),
            }
            let mut answer = String::new();
            let read = io::stdin()
                .lock()
                .read_line(&mut answer)
                .map_err(LoginError::ReadAnswer)?;
            if read == 0 {
                // Ctrl-D: the cursor is still after the question.
                self.printer.prompt("\n");
                return Err(LoginError::NoAnswer {
                    question: question.to_string(),
                }
                .into());
            }
            let answer = answer.trim();
            match (answer.is_empty(), default) {
                (false, _) => return Ok(answer.to_string()),
                (true, Some(default)) => return Ok(default.to_string()),
                (true, None) => continue,
            }
        }
    }

    /// A secret, typed without echo; an empty one is asked again.
    fn secret(&self, question: &str) -> Result<String, Error> {
        loop {
            self.printer.prompt(&format!("{question}: "));
            let text = rpassword::read_password().map_err(|e| match e.kind() {
                io::ErrorKind::Interrupted => Error::interrupted(),
                io::ErrorKind::UnexpectedEof => {
                    self.printer.prompt("\n");
                    LoginError::NoAnswer {
                        question: question.to_string(),
                    }
                    .into()
                }
                _ => LoginError::ReadSecret(e).into(),
            })?;
            if !text.is_empty() {
                return Ok(text);
            }
            self.printer
                .warn(&format!("the {} is empty; type it again", question.to_lowercase()));
        }
    }
}

fn auth_kind(args: &LoginArgs, existing: &FileValues, ask: &Asker) -> Result<AuthKind, Error> {
    let implied = if args.client_key.is_some() || args.client_secret_stdin {
        Some(AuthKind::Oauth)
    } else if args.username.is_some() || args.password_stdin {
        Some(AuthKind::Basic)
    } else {
        None
    };
    let auth = match (args.auth, implied) {
        (Some(auth), _) => auth,
        (None, Some(implied)) => implied,
        (None, None) => {
            let current = existing.auth().unwrap_or(settings::inferred_auth(
                existing.username().is_some(),
                existing.client_key().is_some(),
            ));
            if ask.interactive {
                loop {
                    let answer = ask.line("Authentication (basic or oauth)", Some(&choice_name(&current)))?;
                    // `Basic`, `OAUTH`: the case does not matter when typed.
                    match Key::Auth.parse_input(&answer.to_ascii_lowercase()) {
                        Ok(value) if value.as_str() == Some("oauth") => break AuthKind::Oauth,
                        Ok(_) => break AuthKind::Basic,
                        Err(err) => ask.printer.warn(&err.to_string()),
                    }
                }
            } else {
                current
            }
        }
    };
    let misfit = match auth {
        AuthKind::Basic if args.client_key.is_some() => Some("--client-key"),
        AuthKind::Basic if args.client_secret_stdin => Some("--client-secret-stdin"),
        AuthKind::Oauth if args.username.is_some() => Some("--username"),
        AuthKind::Oauth if args.password_stdin => Some("--password-stdin"),
        _ => None,
    };
    if let Some(flag) = misfit {
        return Err(LoginError::FlagMisfit { flag, auth }.into());
    }
    Ok(auth)
}

/// The flags login shares with the settings, for `settings::resolve_key`.
fn login_flags(args: &LoginArgs) -> Flags {
    Flags {
        base_url: args.base_url.clone(),
        username: args.username.clone(),
        client_key: args.client_key.clone(),
        ..Flags::default()
    }
}

/// A setting as an upload would resolve it (flag, environment, profile), for
/// a question's default: a value the environment gets wrong is said, and no
/// default is offered.
fn offered(key: Key, existing: &FileValues, env: &Env, ask: &Asker) -> Option<String> {
    match settings::resolve_key(key, &Flags::default(), env, existing) {
        Ok(setting) => setting.map(|s| s.value.to_string()),
        Err(err) => {
            ask.printer.warn(&err.to_string());
            None
        }
    }
}

fn base_url(args: &LoginArgs, existing: &FileValues, env: &Env, ask: &Asker) -> Result<Url, Error> {
    if ask.interactive && args.base_url.is_none() {
        let mut current = offered(Key::BaseUrl, existing, env, ask);
        loop {
            let answer = ask.line("Base URL of the Capillary API host", current.as_deref())?;
            match settings::parse_base_url(&answer) {
                Ok(url) => return Ok(url),
                Err(err) => {
                    ask.printer.warn(&err.to_string());
                    // A bare host name: offer it with https:// as the default.
                    if let Some(suggested) = with_scheme(&answer) {
                        current = Some(suggested);
                    }
                }
            }
        }
    }
    match settings::resolve_key(Key::BaseUrl, &login_flags(args), env, existing)? {
        Some(setting) => match setting.value {
            Value::Url(url) => Ok(url),
            other => Err(LoginError::BaseUrlNotUrl(other).into()),
        },
        None => Err(LoginError::NoBaseUrl.into()),
    }
}

fn identity(args: &LoginArgs, auth: AuthKind, existing: &FileValues, env: &Env, ask: &Asker) -> Result<String, Error> {
    let (key, flag, question) = match auth {
        AuthKind::Basic => (Key::Username, &args.username, "Username (till login)"),
        AuthKind::Oauth => (Key::ClientKey, &args.client_key, "Client key"),
    };
    if ask.interactive && flag.is_none() {
        let current = offered(key, existing, env, ask);
        loop {
            let answer = ask.line(question, current.as_deref())?;
            match key.parse_input(&answer) {
                Ok(_) => return Ok(answer.trim().to_string()),
                Err(err) => ask.printer.warn(&err.to_string()),
            }
        }
    }
    match settings::resolve_key(key, &login_flags(args), env, existing)? {
        // Typed text is trimmed; the file's value is kept as it is.
        Some(setting) if matches!(setting.origin, Origin::Flag | Origin::Env(_)) => {
            Ok(setting.value.to_string().trim().to_string())
        }
        Some(setting) => Ok(setting.value.to_string()),
        None => Err(LoginError::NoIdentity(key).into()),
    }
}

/// The password or client secret: from standard input with the `*-stdin`
/// flags, else typed on the terminal without echo.
fn read_secret(args: &LoginArgs, auth: AuthKind, ask: &Asker) -> Result<Secret, Error> {
    let from_stdin = args.password_stdin || args.client_secret_stdin;
    let text = if from_stdin && !io::stdin().is_terminal() {
        let mut text = String::new();
        io::stdin()
            .lock()
            .take(MAX_SECRET)
            .read_to_string(&mut text)
            .map_err(|source| LoginError::ReadStdin { auth, source })?;
        // `echo` adds a newline, `printf '%s'` does not: take either.
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string()
    } else if from_stdin || ask.interactive {
        // `--password-stdin` on a terminal: still never echo it.
        let question = match auth {
            AuthKind::Basic => "Password",
            AuthKind::Oauth => "Client secret",
        };
        ask.secret(question)?
    } else {
        return Err(LoginError::NoTerminal { auth }.into());
    };
    if text.is_empty() {
        return Err(LoginError::EmptySecret { auth }.into());
    }
    Ok(Secret::new(text))
}

/// `eu.api.capillarytech.com` as `https://eu.api.capillarytech.com`, when the
/// answer has no scheme and is a valid base URL with one.
fn with_scheme(answer: &str) -> Option<String> {
    let answer = answer.trim();
    if answer.contains("://") || answer.is_empty() {
        return None;
    }
    let suggested = format!("https://{answer}");
    settings::parse_base_url(&suggested).ok().map(|_| suggested)
}

/// The base URL as `config set` keeps it: no `/` after a bare host.
fn stored_url(url: &Url) -> String {
    let text = url.as_str();
    match url.path() {
        "/" => text.strip_suffix('/').unwrap_or(text).to_string(),
        _ => text.to_string(),
    }
}

/// Fails at once, before any question, when the keyring cannot be used.
fn check_keyring(keyring: &dyn SecretStore, profile: &str, paths: &Paths) -> Result<(), Error> {
    let refused = |cause| {
        Error::from(LoginError::Keyring {
            cause,
            credentials_file: paths.credentials.clone(),
        })
    };
    keyring.get(profile, SecretKind::PasswordMd5).map_err(refused)?;
    // Reading is not enough: the kernel keyring lets a shell read and not
    // write. A probe entry under a name no profile can have (`:` is not
    // allowed in one) is written and removed before the first question.
    let probe = Binding {
        origin: "https://capfile.invalid".into(),
        identity: "capfile".into(),
    };
    keyring
        .set(
            KEYRING_PROBE,
            SecretKind::PasswordMd5,
            &credentials::Secret::new("probe"),
            &probe,
        )
        .map_err(refused)?;
    let _ = keyring.delete(KEYRING_PROBE);
    Ok(())
}

/// The entry `check_keyring` writes and removes to see that it may.
const KEYRING_PROBE: &str = "capfile:keyring-check";

/// Asks the token endpoint for a token with the key and secret.
fn check_oauth(
    base_url: &Url,
    credentials: &Credentials,
    key: &str,
    env: &Env,
    printer: &Printer,
) -> Result<(), Error> {
    let ca_bundle = env.get("CAPFILE_CA_BUNDLE");
    let route = Route::for_base_url(base_url, env)
        .map_err(Error::BadProxy)?
        .with_ca_bundle(ca_bundle.as_deref().map(std::path::Path::new));
    printer.detail(1, &route.describe());
    let service = FileService::new(base_url.clone(), credentials, CHECK_TIMEOUT, 0, route).map_err(Error::Client)?;
    printer.detail(
        1,
        &format!("checking client key `{key}` with the token endpoint at {base_url}"),
    );
    let checked = super::runtime(super::Threads::One)?.block_on(service.check_credentials());
    match checked {
        Ok(()) => Ok(()),
        Err(cause) if cause.is_auth() => Err(LoginError::OauthRefused {
            base_url: base_url.clone(),
            client_key: key.to_string(),
            cause,
        }
        .into()),
        Err(cause) => Err(LoginError::OauthUnchecked {
            base_url: base_url.clone(),
            client_key: key.to_string(),
            cause,
        }
        .into()),
    }
}

/// Writes the profile's base URL, auth kind and username or client key,
/// keeping everything else in the file as it was.
fn save_settings(
    config: &Config,
    profile: &Profile,
    base_url: &Url,
    auth: AuthKind,
    identity: &str,
    keyring: Option<&str>,
) -> Result<(), Error> {
    let file = &config.file;
    let mut doc = file.document_mut()?;
    let table =
        config_file::profile_table_mut(&mut doc, &profile.name).map_err(|message| config_file::FileError::Invalid {
            path: file.path.clone(),
            at: None,
            message: message.to_string(),
            hint: None,
        })?;
    // Keep the URL as the user wrote it when it is the same one.
    let same = table
        .get(Key::BaseUrl.name())
        .and_then(|v| v.as_str())
        .and_then(|v| settings::parse_base_url(v).ok())
        .is_some_and(|old| &old == base_url);
    if !same {
        config_file::set_value(table, Key::BaseUrl.name(), stored_url(base_url).into());
    }
    config_file::set_value(table, Key::Auth.name(), choice_name(&auth).into());
    let (keep, drop) = match auth {
        AuthKind::Basic => (Key::Username, Key::ClientKey),
        AuthKind::Oauth => (Key::ClientKey, Key::Username),
    };
    config_file::set_value(table, keep.name(), identity.into());
    table.remove(drop.name());
    // The keyring the secret went to, when not the platform's: `status` and
    // `upload` then find it without CAPFILE_KEYRING.
    match keyring {
        Some(choice) if choice != "native" && !choice.is_empty() => {
            config_file::set_value(table, Key::Keyring.name(), choice.into());
        }
        Some(_) => {
            table.remove(Key::Keyring.name());
        }
        None => {}
    }
    Ok(file.write(&doc, false)?)
}
