//! Unit tests of `Error`: the exit code of each kind, and how variants are
//! worded and hinted. Kept beside `error/mod.rs` so that file stays under 600 lines
//! as typed variants replace the free-form ones.

use super::*;
use crate::config_file::FileError;

#[test]
fn kinds_map_to_the_exit_codes() {
    assert_eq!(Error::NoBaseUrl.exit().code(), 2);
    assert_eq!(refused().exit().code(), 4);
    assert_eq!(Error::Runtime(io::Error::other("x")).exit().code(), 1);
    assert_eq!(Error::interrupted().exit().code(), 130);
    assert_eq!(Exit::Partial.code(), 3);
    assert_eq!(Exit::Success.code(), 0);
}

#[test]
fn file_and_setting_errors_name_the_file_or_source() {
    let path = || PathBuf::from("/c/config.toml");
    let invalid = Error::from(FileError::Invalid {
        path: path(),
        at: Some((2, 8)),
        message: "jobs must be from 1 to 64, not 0".into(),
        hint: None,
    });
    assert_eq!(
        invalid.to_string(),
        "/c/config.toml:2:8: jobs must be from 1 to 64, not 0"
    );
    assert_eq!(invalid.exit(), Exit::Usage);
    let write = Error::from(FileError::Write {
        path: path(),
        source: io::Error::from(io::ErrorKind::PermissionDenied),
    });
    assert_eq!(write.exit(), Exit::Failure);
    assert!(std::error::Error::source(&write).is_some());
    let profile = |existing| {
        Error::from(FileError::UnknownProfile {
            name: "demo".into(),
            path: path(),
            existing,
            argument: false,
        })
    };
    assert_eq!(
        profile(None).to_string(),
        "profile `demo` does not exist: there is no config file at /c/config.toml"
    );
    assert_eq!(
        profile(Some(vec![])).to_string(),
        "profile `demo` does not exist: /c/config.toml has no profiles"
    );
    assert_eq!(
        profile(Some(vec!["a".into(), "b".into()])).to_string(),
        "profile `demo` is not in /c/config.toml; existing profiles: a, b"
    );
    let unknown = |argument| FileError::UnknownProfile {
        name: "dmeo".into(),
        path: path(),
        existing: Some(vec!["demo".into(), "prod".into()]),
        argument,
    };
    assert_eq!(unknown(false).hint().as_deref(), Some("did you mean `-p demo`?"));
    assert_eq!(unknown(true).hint().as_deref(), Some("did you mean `demo`?"));
    assert_eq!(
        profile(None).hint().as_deref(),
        Some("create it with `capfile -p demo login` or `capfile -p demo config set KEY VALUE`")
    );
    let bad = Error::from(SettingsError::Bad {
        from: "CAPFILE_JOBS".into(),
        message: crate::settings::ValueError::OutOfRange {
            name: "jobs",
            min: 1,
            max: 64,
            number: 0,
        },
    });
    assert_eq!(bad.to_string(), "CAPFILE_JOBS: jobs must be from 1 to 64, not 0");
    assert_eq!(
        Error::from(FileError::NoConfigDir).hint().as_deref(),
        Some("pass --config FILE or set CAPFILE_CONFIG")
    );
    assert_eq!(
        Error::ResultsLost {
            cause: "x".into(),
            uploads: true
        }
        .exit(),
        Exit::Failure
    );
}

#[test]
fn typed_variants_decide_their_exit_code() {
    let label = || "a.png".to_string();
    assert_eq!(
        Error::from(InputError::NotAnImage { label: label() }).exit(),
        Exit::Usage
    );
    assert_eq!(Error::NoBaseUrl.exit(), Exit::Usage);
    assert_eq!(refused().exit(), Exit::Auth);
    let upload = Error::Upload {
        label: label(),
        source: ApiError::Timeout(std::time::Duration::from_secs(5)),
    };
    assert_eq!(upload.exit(), Exit::Failure);
    assert_eq!(upload.to_string(), "a.png: no progress for 5 s (--timeout)");
}

#[test]
fn io_causes_are_put_in_words() {
    let err = |kind| {
        Error::from(InputError::Io {
            label: "a.png".into(),
            source: io::Error::from(kind),
        })
    };
    assert_eq!(
        err(io::ErrorKind::NotFound).message(),
        "a.png: no such file or directory"
    );
    assert_eq!(
        err(io::ErrorKind::PermissionDenied).message(),
        "a.png: permission denied"
    );
}

#[test]
fn single_errors_of_commands_have_their_words_and_exit_codes() {
    let list = Error::from(InputError::EmptyList {
        label: "list.txt".into(),
    });
    assert_eq!(list.message(), "--files-from list.txt: the list names no files");
    assert_eq!(list.exit(), Exit::Usage);
    let manifest = Error::NeedsManifest { flag: "--force" };
    assert_eq!(
        manifest.message(),
        "--force needs a manifest: --manifest FILE, CAPFILE_MANIFEST or the profile's `manifest`"
    );
    assert_eq!(manifest.exit(), Exit::Usage);
    let all = Error::NoProfilesForAll {
        path: PathBuf::from("/c/config.toml"),
    };
    assert_eq!(all.message(), "--all: there are no profiles in /c/config.toml");
    assert_eq!(all.hint().as_deref(), Some("create one with `capfile login`"));
    assert_eq!(all.exit(), Exit::Usage);
    let signals = Error::Signals(io::Error::other("no handler"));
    assert_eq!(signals.message(), "cannot handle Ctrl-C: no handler");
    assert_eq!(signals.exit(), Exit::Failure);
    assert!(std::error::Error::source(&signals).is_some());
}

#[test]
fn a_hint_can_be_replaced_without_changing_the_kind() {
    let err = Error::from(InputError::EmptyFile { label: "a.png".into() });
    assert_eq!(
        err.hint().as_deref(),
        Some("use --placeholder to create a placeholder without a body")
    );
    let err = err.with_hint("something else");
    assert_eq!(err.hint().as_deref(), Some("something else"));
    assert_eq!(err.exit(), Exit::Usage);
    assert_eq!(err.message(), "a.png: file is empty");
    assert!(
        matches!(err, Error::Hinted { ref error, .. } if matches!(**error, Error::Input(InputError::EmptyFile { .. })))
    );
}

fn refused() -> Error {
    Error::CredentialsRefused {
        profile: "default".into(),
        source: None,
    }
}

#[test]
fn a_refusal_hints_at_its_own_profile_and_source() {
    use crate::credentials::{LOGIN_HINT, SecretSource};
    assert_eq!(refused().hint().as_deref(), Some(LOGIN_HINT));
    let of = |profile: &str| Error::CredentialsRefused {
        profile: profile.into(),
        source: Some(SecretSource::File(PathBuf::from("/c/credentials.toml"))),
    };
    // Two refusals in one process: each keeps its own profile.
    let (a, b) = (of("alpha"), of("beta"));
    assert_eq!(
        a.hint().as_deref(),
        Some(
            "the secret saved in /c/credentials.toml for profile `alpha` was refused: run `capfile -p alpha login` again"
        )
    );
    assert!(b.hint().unwrap().contains("`capfile -p beta login`"));
    assert_eq!(a.message(), "the file service refused the credentials");
}
