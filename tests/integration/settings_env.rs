//! Every setting has an environment variable, `CAPFILE_` and its key in
//! capitals, read between the flag and the profile: `-v` names it as the
//! origin, `config get` prints its value, and a bad value is a usage error
//! naming the variable.

use crate::common;

use capfile::testing::settings::{Key, Kind};
use common::*;

/// A good value of each setting, as text.
fn good_value(key: Key) -> String {
    match key {
        Key::BaseUrl => String::new(), // set by the test service already
        Key::Auth => "basic".into(),
        Key::Username => capfile::testing::emulator::DEFAULT_USERNAME.into(),
        Key::ClientKey => "some-client".into(),
        Key::Namespace => "banners".into(),
        Key::Rate => "100/min".into(),
        Key::Output => "url".into(),
        Key::Body => "raw".into(),
        Key::Manifest => "m.capfile.toml".into(),
        Key::CaBundle => "private-ca.pem".into(),
        Key::Policy => "reward-art".into(),
        Key::Keyring => "keyutils".into(),
        Key::Http => "1.1".into(),
        other => match other.spec().kind {
            Kind::Int { min, max } | Kind::IntOrAuto { min, max } => (min + (max - min) / 2).min(min + 5).to_string(),
            _ => panic!("give {} a good value in this table", other.name()),
        },
    }
}

#[test]
fn every_setting_is_read_from_its_variable() {
    let service = Service::start();
    for key in Key::ALL {
        let var = key.env_var();
        assert_eq!(var, format!("CAPFILE_{}", key.name().to_ascii_uppercase()));
        if key == Key::BaseUrl {
            continue;
        }
        let value = good_value(key);
        let list = run(service.capfile().env(var, &value).args(["config", "list", "--json"]));
        assert!(list.status.success(), "{var}: {}", stderr(&list));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
        let shown = &doc[key.name()];
        assert_eq!(shown["origin"], "env", "{var}: {shown}");
        assert_eq!(shown["variable"], var, "{var}: {shown}");
        let shown_value = match &shown["value"] {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        assert_eq!(shown_value, value, "{var}");
    }
}

#[test]
fn a_bad_value_in_a_settings_variable_names_the_variable() {
    let service = Service::start();
    for key in Key::ALL {
        let bad = match key.spec().kind {
            Kind::Int { max, .. } | Kind::IntOrAuto { max, .. } => (max + 1).to_string(),
            Kind::Choice { .. } => "nonsense".to_string(),
            // Any path is a path: a file that cannot be read is said when it
            // is opened.
            Kind::Text(_) if matches!(key, Key::Manifest | Key::CaBundle) => continue,
            Kind::Text(_) => "\u{7}bad value".to_string(),
        };
        let var = key.env_var();
        let output = run(service
            .capfile()
            .env(var, &bad)
            .args(["upload", "--dry-run"])
            .arg(sample("sample.png")));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{var}={bad:?}: {err}");
        assert!(
            err.starts_with(&format!("capfile: error: {var}")),
            "{var}={bad:?}: {err}"
        );
        assert_eq!(service.stats().upload_requests, 0, "{var}: nothing is sent");
    }
}
