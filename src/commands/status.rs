//! `capfile status`: what an upload would use, and whether it would work, for
//! the selected profile (or every profile with `--all`), in the manner of
//! `gh auth status`.
//!
//! For each profile: the base URL and where it came from, the auth kind and
//! identity, where the secret is and whether it can be read, whether the OS
//! keyring answers, whether the host answers (a GET of the base URL, which
//! creates nothing), and for OAuth whether the token endpoint gives a token.
//! A Basic password cannot be checked without an upload, and it says so.
//!
//! The settings and the secret are found the way an upload finds them
//! (`effective_settings`, `resolve_credentials`, `Stores`): nothing here
//! re-implements that order. Exit status: 0 when everything that can be
//! checked is fine, 4 when credentials are missing or refused, 1 when the host
//! cannot be reached (and no credential problem was found first).

use std::time::Duration;

use serde_json::{Map, Value, json};
use url::Url;

use crate::api::{FileService, Route, http_client};
use crate::cli::StatusArgs;
use crate::config_file::Profile;
use crate::credentials::{Credentials, SecretKind, SecretSource, SecretStore};
use crate::error::{Error, Exit};
use crate::settings::{AuthKind, Flags, Origin, Setting, Settings, choice_name};

/// How long the host and the token endpoint get to answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `capfile status`.
pub(crate) fn run(args: StatusArgs, ctx: &super::Context) -> Result<Exit, Error> {
    let printer = &ctx.printer;
    let profiles: Vec<Profile> = if args.all {
        let names = ctx.config()?.names();
        if names.is_empty() {
            return Err(Error::NoProfilesForAll {
                path: ctx.paths()?.config.clone(),
            });
        }
        // As `-p NAME status` for each.
        let select = |name: &str| Profile::select(Some(name), &ctx.env);
        names.into_iter().map(select).collect::<Result<_, _>>()?
    } else {
        vec![ctx.profile()?]
    };
    let mut reports = Vec::new();
    for profile in profiles {
        reports.push(check(ctx, profile)?);
    }
    let exit = reports
        .iter()
        .map(|r| r.exit())
        .max_by_key(|e| severity(*e))
        .unwrap_or(Exit::Success);
    if args.json {
        let doc = json!({
            "profiles": reports.iter().map(Report::to_json).collect::<Vec<_>>(),
            "exit": exit.code(),
        });
        let text = if printer.stdout_is_terminal() {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        };
        printer.result(&format!("{}\n", text.unwrap_or_default()));
    } else {
        let marks = printer.colors_stdout();
        let text: Vec<String> = reports.iter().map(|report| report.to_text(marks)).collect();
        printer.result(&text.join("\n"));
    }
    Ok(exit)
}

/// Which exit wins when profiles disagree: credentials, then the host.
fn severity(exit: Exit) -> u8 {
    match exit {
        Exit::Success => 0,
        Exit::Failure => 1,
        Exit::Auth => 2,
        _ => 3,
    }
}

/// A check: passed, passed with a warning, failed (with why), or not made
/// (with why not).
#[derive(Debug)]
enum Check {
    Ok(String),
    Warning(String),
    Failed(String),
    Skipped(String),
}

impl Check {
    fn to_json(&self) -> Value {
        match self {
            Check::Ok(detail) => json!({"ok": true, "detail": detail}),
            Check::Warning(detail) => json!({"ok": true, "warning": true, "detail": detail}),
            Check::Failed(detail) => json!({"ok": false, "detail": detail}),
            Check::Skipped(detail) => json!({"ok": null, "detail": detail}),
        }
    }

    /// The check in words; with `marks` (a colour terminal), led by a
    /// coloured mark as `gh auth status` does: ✓ ok, ! warning, X failed.
    fn to_text(&self, marks: bool) -> String {
        let (mark, colour, text) = match self {
            Check::Ok(detail) => ("✓", "32", format!("ok: {detail}")),
            Check::Warning(detail) => ("!", "33", format!("warning: {detail}")),
            Check::Failed(detail) => ("X", "31", format!("FAILED: {detail}")),
            Check::Skipped(detail) => ("-", "2", format!("not checked: {detail}")),
        };
        if marks {
            format!("\x1b[{colour}m{mark}\x1b[0m {text}")
        } else {
            text
        }
    }
}

/// What `status` found for one profile.
struct Report {
    profile: Profile,
    base_url: Option<(Url, Origin)>,
    auth: AuthKind,
    auth_origin: Origin,
    /// `("username" | "client_key", value, origin)`.
    identity: Option<(&'static str, String, Origin)>,
    kind: SecretKind,
    secret_source: Option<SecretSource>,
    /// Whether the secret was found and may be sent (binding, shape).
    secret: Check,
    keyring: Check,
    host: Check,
    /// OAuth: a token; Basic: what cannot be checked.
    credentials: Check,
    /// The exit this profile alone would give.
    exit: Exit,
}

impl Report {
    fn exit(&self) -> Exit {
        self.exit
    }

    fn to_text(&self, marks: bool) -> String {
        let mut text = format!("profile {} ({})\n", self.profile.name, self.profile.origin);
        match &self.base_url {
            Some((url, origin)) => text.push_str(&format!("  base URL:       {url} ({origin})\n")),
            None => text.push_str("  base URL:       not set\n"),
        }
        text.push_str(&format!(
            "  auth:           {} ({})\n",
            choice_name(&self.auth),
            self.auth_origin
        ));
        match &self.identity {
            Some((what, value, origin)) => text.push_str(&format!("  {:<15} {value} ({origin})\n", format!("{what}:"))),
            None => text.push_str(&format!("  {:<15} not set\n", format!("{}:", identity_name(self.auth)))),
        }
        let source = match &self.secret_source {
            Some(source) => format!("from {}", source_text(source)),
            None => "not found".to_string(),
        };
        text.push_str(&format!(
            "  {:<15} {source}: {}\n",
            format!("{}:", self.kind.name()),
            self.secret.to_text(marks)
        ));
        text.push_str(&format!("  keyring:        {}\n", self.keyring.to_text(marks)));
        text.push_str(&format!("  host:           {}\n", self.host.to_text(marks)));
        let what = match self.auth {
            AuthKind::Oauth => "token",
            AuthKind::Basic => "password",
        };
        text.push_str(&format!(
            "  {:<15} {}\n",
            format!("{what}:"),
            self.credentials.to_text(marks)
        ));
        text
    }

    fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("profile".into(), json!(self.profile.name));
        doc.insert("profile_origin".into(), origin_json(&self.profile.origin));
        doc.insert(
            "base_url".into(),
            match &self.base_url {
                Some((url, origin)) => json!({"value": url.as_str(), "origin": origin_json(origin)}),
                None => json!({"value": null, "origin": null}),
            },
        );
        doc.insert(
            "auth".into(),
            json!({"value": choice_name(&self.auth), "origin": origin_json(&self.auth_origin)}),
        );
        doc.insert(
            "identity".into(),
            match &self.identity {
                Some((what, value, origin)) => json!({"key": what, "value": value, "origin": origin_json(origin)}),
                None => json!({"key": identity_name(self.auth), "value": null, "origin": null}),
            },
        );
        let mut secret = Map::new();
        secret.insert("key".into(), json!(self.kind.name()));
        secret.insert(
            "source".into(),
            match &self.secret_source {
                Some(SecretSource::Env(name)) => json!({"kind": "env", "variable": name}),
                Some(SecretSource::Keyring) => json!({"kind": "keyring"}),
                Some(SecretSource::File(path)) => {
                    json!({"kind": "credentials_file", "path": path.display().to_string()})
                }
                None => Value::Null,
            },
        );
        secret.insert("check".into(), self.secret.to_json());
        doc.insert("secret".into(), Value::Object(secret));
        doc.insert("keyring".into(), self.keyring.to_json());
        doc.insert("host".into(), self.host.to_json());
        doc.insert(
            match self.auth {
                AuthKind::Oauth => "token".into(),
                AuthKind::Basic => "password".into(),
            },
            self.credentials.to_json(),
        );
        doc.insert("exit".into(), json!(self.exit.code()));
        Value::Object(doc)
    }
}

fn identity_name(auth: AuthKind) -> &'static str {
    match auth {
        AuthKind::Basic => "username",
        AuthKind::Oauth => "client_key",
    }
}

fn source_text(source: &SecretSource) -> String {
    match source {
        SecretSource::Env(name) => format!("env {name}"),
        SecretSource::Keyring => "OS keyring".to_string(),
        SecretSource::File(path) => format!("credentials file {}", path.display()),
    }
}

/// `{"kind": "env", "variable": ...}` or the origin's name.
fn origin_json(origin: &Origin) -> Value {
    match origin {
        Origin::Env(name) => json!({"kind": "env", "variable": name}),
        other => json!({"kind": other.to_string()}),
    }
}

/// Checks one profile. Only a broken config file or a profile that does not
/// exist is an error; everything else is reported.
fn check(ctx: &super::Context, profile: Profile) -> Result<Report, Error> {
    let (paths, env, printer) = (ctx.paths()?, &ctx.env, &ctx.printer);
    let settings = ctx.settings_of(&profile, &Flags::default())?;
    let auth = settings.auth.value;
    let identity = match auth {
        AuthKind::Basic => settings
            .username
            .as_ref()
            .map(|s| ("username", s.value.clone(), s.origin.clone())),
        AuthKind::Oauth => settings
            .client_key
            .as_ref()
            .map(|s| ("client_key", s.value.clone(), s.origin.clone())),
    };
    let stores = super::Stores::open(paths, printer, &super::keyring_setting(&settings));
    let keyring = match stores.keyring.get(&profile.name, SecretKind::for_auth(auth)) {
        Ok(_) => Check::Ok(format!("{} answers", stores.keyring.describe())),
        Err(err) => Check::Failed(err.message),
    };
    let mut report = Report {
        profile,
        base_url: settings.base_url.as_ref().map(|s| (s.value.clone(), s.origin.clone())),
        auth,
        auth_origin: settings.auth.origin.clone(),
        identity,
        kind: SecretKind::for_auth(auth),
        secret_source: None,
        secret: Check::Skipped("no base URL".into()),
        keyring,
        host: Check::Skipped("no base URL".into()),
        credentials: Check::Skipped("no base URL".into()),
        exit: Exit::Success,
    };
    let Some(base_url) = &settings.base_url else {
        report.exit = Exit::Auth;
        report.secret = Check::Failed(format!(
            "profile `{}` has no base URL: run `capfile -p {} login`, or set CAPFILE_BASE_URL",
            report.profile.name, report.profile.name
        ));
        return Ok(report);
    };
    let credentials = check_secret(ctx, &mut report, &settings, base_url);
    let runtime = super::runtime(super::Threads::One)?;
    let route = match Route::for_base_url(&base_url.value, env) {
        Ok(route) => route.with_ca_bundle(settings.ca_bundle.as_ref().map(|s| std::path::Path::new(&s.value))),
        Err(bad) => {
            report.host = Check::Failed(bad.to_string());
            report.exit = Exit::Usage;
            return Ok(report);
        }
    };
    printer.detail(1, &route.describe());
    report.host = runtime.block_on(probe_host(&base_url.value, &settings.namespace.value, &route));
    let host_ok = matches!(report.host, Check::Ok(_));
    if !host_ok && report.exit == Exit::Success {
        report.exit = Exit::Failure;
    }
    report.credentials = check_credentials(
        ctx,
        &mut report,
        credentials.as_ref(),
        host_ok,
        base_url,
        route,
        &runtime,
    );
    Ok(report)
}

/// Whether the profile's secret can be read and may be sent to its host: the
/// credentials when so, and the report's `secret` (and `keyring`) lines.
fn check_secret(
    ctx: &super::Context,
    report: &mut Report,
    settings: &Settings,
    base_url: &Setting<Url>,
) -> Option<Credentials> {
    match super::resolve_credentials(ctx, &report.profile, settings, base_url) {
        Ok(resolved) => {
            report.kind = match resolved.credentials {
                Credentials::Basic { .. } => SecretKind::PasswordMd5,
                Credentials::OAuth { .. } => SecretKind::ClientSecret,
            };
            // A keyring that fails is no failure when the secret is not
            // kept there.
            if let (Check::Failed(why), SecretSource::Env(_) | SecretSource::File(_)) =
                (&report.keyring, &resolved.source)
            {
                report.keyring = Check::Warning(format!(
                    "not used: the secret comes from {}; {why}",
                    source_text(&resolved.source)
                ));
            }
            report.secret_source = Some(resolved.source);
            report.secret = Check::Ok("readable, and may be sent to this host".into());
            Some(resolved.credentials)
        }
        Err(err) => {
            report.secret = Check::Failed(match err.hint() {
                Some(hint) => format!("{}; {hint}", err.message()),
                None => err.message(),
            });
            report.exit = match err.exit() {
                Exit::Usage => Exit::Usage,
                _ => Exit::Auth,
            };
            None
        }
    }
}

/// Whether the token endpoint gives a token for OAuth credentials (a Basic
/// password only an upload checks); `report.exit` says a refusal or failure.
fn check_credentials(
    ctx: &super::Context,
    report: &mut Report,
    credentials: Option<&Credentials>,
    host_ok: bool,
    base_url: &Setting<Url>,
    route: Route,
    runtime: &tokio::runtime::Runtime,
) -> Check {
    match (credentials, host_ok) {
        (None, _) => Check::Skipped("no credentials".into()),
        (Some(Credentials::Basic { .. }), _) => Check::Skipped(
            super::login::BASIC_NOT_CHECKED
                .trim_start_matches("the password was not checked: ")
                .into(),
        ),
        (Some(_), false) => Check::Skipped("the host does not answer".into()),
        (Some(creds @ Credentials::OAuth { .. }), true) => {
            let checked = match FileService::new(base_url.value.clone(), creds, CHECK_TIMEOUT, 0, route) {
                Ok(service) => runtime
                    .block_on(service.with_trace(ctx.printer.clone()).check_credentials())
                    .map_err(|e| (e.is_auth(), e.to_string())),
                Err(e) => Err((false, e.to_string())),
            };
            match checked {
                Ok(()) => Check::Ok("the token endpoint gave a token".into()),
                Err((true, cause)) => {
                    report.exit = Exit::Auth;
                    // This profile's own hint: its name and where its secret came from.
                    let refused = Error::CredentialsRefused {
                        profile: report.profile.name.clone(),
                        source: report.secret_source.clone(),
                    };
                    let hint = refused.hint().unwrap_or_default();
                    Check::Failed(format!(
                        "the token endpoint refused the client key and secret ({cause}); {hint}"
                    ))
                }
                Err((false, cause)) => {
                    report.exit = Exit::Failure;
                    Check::Failed(format!("cannot get a token: {cause}"))
                }
            }
        }
    }
}

/// A GET of the upload endpoint's path, which creates nothing (uploads are
/// POSTs): any answer but 404 means the host answers and routes the path
/// (the emulator answers 405; a gateway may answer 401, 403 or 405). A 404
/// says the base URL is wrong, and is never "ok".
async fn probe_host(base_url: &Url, namespace: &str, route: &Route) -> Check {
    let client = match http_client(CHECK_TIMEOUT, route) {
        Ok(client) => client,
        Err(e) => return Check::Failed(e.to_string()),
    };
    let over = match base_url.scheme() {
        "https" => "over TLS",
        _ => "over plain HTTP",
    };
    let endpoint = format!(
        "{}/api_gateway/file-service/{namespace}/",
        base_url.as_str().trim_end_matches('/')
    );
    let request = client.get(&endpoint).send();
    match tokio::time::timeout(CHECK_TIMEOUT, request).await {
        Ok(Ok(response)) if response.status() == reqwest::StatusCode::NOT_FOUND => Check::Failed(format!(
            "answers {over}, but the upload endpoint {endpoint} answered 404: is the base URL the \
             cluster's API host (scheme://host[:port]), with no path?"
        )),
        Ok(Ok(response)) => Check::Ok(format!(
            "answers {over}; the upload endpoint answered HTTP {} to a GET, which creates nothing",
            response.status().as_u16()
        )),
        Ok(Err(err)) => Check::Failed(crate::api::NetworkError::new(err).to_string()),
        Err(_) => Check::Failed(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}
