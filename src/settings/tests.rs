use super::checks::redact_userinfo;
use super::*;
use crate::exit::Failure;

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
}

fn file_with(pairs: &[(Key, toml_edit::Value)]) -> FileValues {
    let mut file = FileValues::default();
    for (key, value) in pairs {
        file.set(*key, value).unwrap();
    }
    file
}

fn none(_: &str) -> Option<String> {
    None
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let env = env_of(&[
        ("CAPFILE_NAMESPACE", "solutions"),
        ("CAPFILE_BASE_URL", "https://env.example.com"),
    ]);
    let file = file_with(&[
        (Key::Namespace, "fromfile".into()),
        (Key::BaseUrl, "https://file.example.com".into()),
    ]);
    let defaults = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
    assert_eq!(defaults.namespace, Setting::new("rewards".to_string(), Origin::Default));
    assert!(defaults.base_url.is_none());

    let from_file = resolve(&Flags::default(), &none, &file).unwrap();
    assert_eq!(from_file.namespace, Setting::new("fromfile".to_string(), Origin::File));
    assert_eq!(from_file.base_url.unwrap().origin, Origin::File);

    let from_env = resolve(&Flags::default(), &env, &file).unwrap();
    assert_eq!(from_env.namespace.origin, Origin::Env("CAPFILE_NAMESPACE"));
    assert_eq!(from_env.namespace.value, "solutions");
    assert_eq!(from_env.base_url.unwrap().value.as_str(), "https://env.example.com/");

    let flags = Flags {
        namespace: Some("customerImage".into()),
        base_url: Some("https://flag.example.com".into()),
        ..Flags::default()
    };
    let from_flag = resolve(&flags, &env, &file).unwrap();
    assert_eq!(
        from_flag.namespace,
        Setting::new("customerImage".to_string(), Origin::Flag)
    );
    assert_eq!(from_flag.base_url.unwrap().value.as_str(), "https://flag.example.com/");
}

#[test]
fn every_upload_setting_has_flag_file_default_layers() {
    let file = file_with(&[
        (Key::Jobs, 9.into()),
        (Key::Retries, 7.into()),
        (Key::Timeout, 99.into()),
        (Key::Output, "url".into()),
        (Key::Body, "raw".into()),
    ]);
    let defaults = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
    assert_eq!(defaults.jobs, Setting::new(Jobs::Auto, Origin::Default));
    assert_eq!(defaults.jobs_max, Setting::new(64, Origin::Default));
    assert_eq!(defaults.http, Setting::new(HttpVersion::Auto, Origin::Default));
    assert_eq!(defaults.retries, Setting::new(3, Origin::Default));
    assert_eq!(defaults.timeout, Setting::new(60, Origin::Default));
    assert_eq!(defaults.output, Setting::new(OutputFormat::Table, Origin::Default));
    assert_eq!(defaults.body, Setting::new(BodyFormat::Multipart, Origin::Default));

    let from_file = resolve(&Flags::default(), &none, &file).unwrap();
    assert_eq!(from_file.jobs, Setting::new(Jobs::Fixed(9), Origin::File));
    assert_eq!(from_file.retries, Setting::new(7, Origin::File));
    assert_eq!(from_file.timeout, Setting::new(99, Origin::File));
    assert_eq!(from_file.output, Setting::new(OutputFormat::Url, Origin::File));
    assert_eq!(from_file.body, Setting::new(BodyFormat::Raw, Origin::File));

    let flags = Flags {
        jobs: Some("2".into()),
        retries: Some(0),
        timeout: Some(5),
        output: Some(OutputFormat::Json),
        body: Some(BodyFormat::Multipart),
        ..Flags::default()
    };
    let from_flag = resolve(&flags, &none, &file).unwrap();
    assert_eq!(from_flag.jobs, Setting::new(Jobs::Fixed(2), Origin::Flag));
    assert_eq!(from_flag.retries, Setting::new(0, Origin::Flag));
    assert_eq!(from_flag.timeout, Setting::new(5, Origin::Flag));
    assert_eq!(from_flag.output, Setting::new(OutputFormat::Json, Origin::Flag));
    assert_eq!(from_flag.body, Setting::new(BodyFormat::Multipart, Origin::Flag));
}

#[test]
fn rate_comes_from_flag_env_or_file_and_rate_wait_from_flag_or_file() {
    let file = file_with(&[(Key::Rate, "100/min".into()), (Key::RateWait, 0.into())]);
    let defaults = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
    assert_eq!(defaults.rate, None);
    assert_eq!(defaults.get(Key::Rate), None);
    assert_eq!(defaults.rate_wait, Setting::new(300, Origin::Default));

    let from_file = resolve(&Flags::default(), &none, &file).unwrap();
    assert_eq!(from_file.get(Key::Rate), Some(("100/min".to_string(), Origin::File)));
    assert_eq!(from_file.rate_wait, Setting::new(0, Origin::File));

    let env = env_of(&[("CAPFILE_RATE", "10/2s")]);
    let from_env = resolve(&Flags::default(), &env, &file).unwrap();
    assert_eq!(
        from_env.get(Key::Rate),
        Some(("10/2s".to_string(), Origin::Env("CAPFILE_RATE")))
    );

    let flags = Flags {
        rate: Some("5/s".into()),
        rate_wait: Some(60),
        ..Flags::default()
    };
    let from_flag = resolve(&flags, &env, &file).unwrap();
    assert_eq!(from_flag.get(Key::Rate), Some(("5/s".to_string(), Origin::Flag)));
    assert_eq!(from_flag.rate_wait, Setting::new(60, Origin::Flag));

    let bad = env_of(&[("CAPFILE_RATE", "fast")]);
    let err = resolve(&Flags::default(), &bad, &file).unwrap_err();
    assert!(
        err.message().starts_with("CAPFILE_RATE: \"fast\" is not a rate"),
        "{}",
        err.message()
    );
    let flags = Flags {
        rate: Some("0/s".into()),
        ..Flags::default()
    };
    let err = resolve(&flags, &none, &file).unwrap_err();
    assert!(err.message().starts_with("--rate: "), "{}", err.message());

    assert_eq!(Key::Rate.parse_input("60/10s").unwrap().as_str(), Some("60/10s"));
    assert_eq!(Key::RateWait.parse_input("0").unwrap().as_integer(), Some(0));
    assert!(
        Key::Rate
            .parse_input("60")
            .unwrap_err()
            .to_string()
            .starts_with("rate: ")
    );
    assert!(
        Key::RateWait
            .parse_input("-1")
            .unwrap_err()
            .to_string()
            .contains("rate_wait")
    );
    let mut values = FileValues::default();
    assert!(
        values
            .set(Key::Rate, &60.into())
            .unwrap_err()
            .to_string()
            .contains("string")
    );
}

#[test]
fn identity_layers_and_auth_inference() {
    let file = file_with(&[(Key::Username, "till-file".into())]);
    let env = env_of(&[("CAPFILE_USERNAME", "till-env")]);
    let resolved = resolve(&Flags::default(), &env, &file).unwrap();
    assert_eq!(
        resolved.username,
        Some(Setting::new("till-env".to_string(), Origin::Env("CAPFILE_USERNAME")))
    );
    assert_eq!(resolved.auth, Setting::new(AuthKind::Basic, Origin::Default));

    let oauth_only = file_with(&[(Key::ClientKey, "key".into())]);
    let resolved = resolve(&Flags::default(), &none, &oauth_only).unwrap();
    assert_eq!(resolved.auth, Setting::new(AuthKind::Oauth, Origin::Default));

    let explicit = file_with(&[(Key::ClientKey, "key".into()), (Key::Auth, "basic".into())]);
    let resolved = resolve(&Flags::default(), &none, &explicit).unwrap();
    assert_eq!(resolved.auth, Setting::new(AuthKind::Basic, Origin::File));
    let flags = Flags {
        auth: Some(AuthKind::Oauth),
        ..Flags::default()
    };
    assert_eq!(resolve(&flags, &none, &explicit).unwrap().auth.origin, Origin::Flag);
}

#[test]
fn config_set_input_is_checked_like_the_flags() {
    assert_eq!(Key::Jobs.parse_input("8").unwrap().as_integer(), Some(8));
    assert_eq!(Key::Retries.parse_input("0").unwrap().as_integer(), Some(0));
    assert_eq!(Key::Timeout.parse_input("86400").unwrap().as_integer(), Some(86400));
    for (key, bad) in [
        (Key::Jobs, "0"),
        (Key::Jobs, "65"),
        (Key::Jobs, "four"),
        (Key::Retries, "21"),
        (Key::Timeout, "0"),
        (Key::Output, "yaml"),
        (Key::Body, "form"),
        (Key::Auth, "token"),
        (Key::BaseUrl, "http://eu.api.capillarytech.com"),
        (Key::Namespace, "a/b"),
        (Key::Username, "a:b"),
        (Key::ClientKey, ""),
    ] {
        let err = key.parse_input(bad).unwrap_err().to_string();
        assert!(err.contains(key.name()), "{key:?} {bad:?}: {err}");
    }
    assert_eq!(Key::Auth.parse_input("oauth").unwrap().as_str(), Some("oauth"));
    assert_eq!(
        Key::BaseUrl.parse_input("http://127.0.0.1:7878").unwrap().as_str(),
        Some("http://127.0.0.1:7878")
    );
}

#[test]
fn unknown_keys_list_the_valid_ones_and_secrets_are_not_settings() {
    let err = Key::parse("namespce").unwrap_err().to_string();
    assert!(
        err.contains("base_url, auth, username, client_key, namespace, jobs"),
        "{err}"
    );
    assert!(
        Key::parse("password_md5")
            .unwrap_err()
            .to_string()
            .contains("capfile login")
    );
    assert_eq!(Key::parse("timeout"), Ok(Key::Timeout));
}

/// `jobs` takes `auto` or a number, from a flag, the environment, `config
/// set` or the file, and refuses anything else everywhere.
#[test]
fn jobs_is_auto_or_a_number_everywhere() {
    let good = [
        ("auto", Jobs::Auto),
        (" auto ", Jobs::Auto),
        ("AUTO", Jobs::Auto),
        ("1", Jobs::Fixed(1)),
        ("64", Jobs::Fixed(64)),
        (" 8", Jobs::Fixed(8)),
    ];
    for (text, jobs) in good {
        assert_eq!(Key::Jobs.from_text(text), Ok(Value::Jobs(jobs)), "{text:?}");
        let stored = Key::Jobs.parse_input(text).unwrap();
        assert_eq!(Key::Jobs.from_file(&stored), Ok(Value::Jobs(jobs)), "{text:?}");
        let env = crate::settings::Env::from_pairs([("CAPFILE_JOBS", text)]);
        let resolved = resolve(&Flags::default(), &env, &FileValues::default()).unwrap();
        assert_eq!(resolved.jobs.value, jobs, "{text:?}");
    }
    for bad in [
        "0",
        "65",
        "-1",
        "",
        "auto8",
        "automatic",
        "4.5",
        "eight",
        "99999999999999999999",
    ] {
        let err = Key::Jobs.from_text(bad).unwrap_err().to_string();
        assert!(err.contains("an integer from 1 to 64, or auto"), "{bad:?}: {err}");
        assert!(
            Key::Jobs.parse_input(bad).unwrap_err().to_string().contains("jobs"),
            "{bad:?}"
        );
        if bad.is_empty() {
            continue;
        }
        let env = crate::settings::Env::from_pairs([("CAPFILE_JOBS", bad)]);
        assert!(
            resolve(&Flags::default(), &env, &FileValues::default()).is_err(),
            "{bad:?}"
        );
    }
    // In the file: a number, or the string "auto"; not a number in quotes.
    for bad in [
        toml_edit::Value::from("8"),
        0.into(),
        65.into(),
        true.into(),
        "Auto!".into(),
    ] {
        assert!(Key::Jobs.from_file(&bad).is_err(), "{bad:?}");
    }
    assert_eq!(Key::Jobs.parse_input("auto").unwrap().as_str(), Some("auto"));
}

#[test]
fn http_is_one_of_three() {
    for (text, http) in [
        ("auto", HttpVersion::Auto),
        ("1.1", HttpVersion::Http1),
        ("2", HttpVersion::Http2),
    ] {
        assert_eq!(Key::Http.from_text(text), Ok(Value::Http(http)));
    }
    for bad in ["1", "h2", "3", "http/2", ""] {
        assert!(
            Key::Http
                .from_text(bad)
                .unwrap_err()
                .to_string()
                .contains("auto, 1.1, 2"),
            "{bad:?}"
        );
    }
}

#[test]
fn file_values_must_have_the_right_type() {
    let mut file = FileValues::default();
    assert!(
        file.set(Key::Jobs, &"4".into())
            .unwrap_err()
            .to_string()
            .contains("integer")
    );
    assert!(
        file.set(Key::Namespace, &4.into())
            .unwrap_err()
            .to_string()
            .contains("string")
    );
    assert!(file.set(Key::Retries, &(-1).into()).is_err());
}

#[test]
fn settings_show_as_text_with_origin() {
    let file = file_with(&[(Key::Output, "json".into())]);
    let resolved = resolve(&Flags::default(), &none, &file).unwrap();
    assert_eq!(resolved.get(Key::Output), Some(("json".to_string(), Origin::File)));
    assert_eq!(resolved.get(Key::Jobs), Some(("auto".to_string(), Origin::Default)));
    assert_eq!(resolved.get(Key::BaseUrl), None);
}

#[test]
fn plain_http_only_to_loopback() {
    assert!(parse_base_url("https://eu.api.capillarytech.com").is_ok());
    for ok in [
        "http://127.0.0.1:7878",
        "http://127.1.2.3",
        "http://[::1]:80",
        "http://localhost:1",
    ] {
        assert!(parse_base_url(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://eu.api.capillarytech.com",
        "http://10.0.0.1",
        "ftp://x",
        "https://u:p@x.com",
        "nonsense",
    ] {
        assert!(parse_base_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_password_in_the_base_url_is_refused_first_and_never_quoted() {
    for bad in [
        "https://user:hunter2@host/?a=1",
        "http://user:hunter2@example.com",
        "ftp://user:hunter2@x",
        "https://user:hunter2@[not a host/",
        "https://hunter2@h",
    ] {
        let err = parse_base_url(bad).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{bad}: {err}");
        assert!(err.contains("user name or password"), "{bad}: {err}");
    }
    assert_eq!(redact_userinfo("https://a:b@h:1/p@x"), "https://***@h:1/p@x");
    assert_eq!(redact_userinfo("https://h/p@x"), "https://h/p@x");
}

#[test]
fn bad_env_value_names_the_variable() {
    let env = env_of(&[("CAPFILE_BASE_URL", "http://example.com")]);
    let err = resolve(&Flags::default(), &env, &FileValues::default()).unwrap_err();
    assert!(err.message().starts_with("CAPFILE_BASE_URL:"), "{}", err.message());
    let env = env_of(&[("CAPFILE_USERNAME", "a:b")]);
    let err = resolve(&Flags::default(), &env, &FileValues::default()).unwrap_err();
    assert!(err.message().starts_with("CAPFILE_USERNAME:"), "{}", err.message());
}

#[test]
fn namespaces_are_one_plain_segment() {
    assert!(check_namespace("rewards").is_ok());
    assert!(check_namespace("customerImage").is_ok());
    for bad in ["", "a/b", "..", "a b", "é"] {
        assert!(check_namespace(bad).is_err(), "{bad}");
    }
}

#[test]
fn profile_names_are_plain() {
    assert!(check_profile_name("default").is_ok());
    assert!(check_profile_name("ci-eu.2").is_ok());
    for bad in ["", "a b", "a/b", "x]"] {
        assert!(check_profile_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn every_table_entry_is_consistent() {
    for key in Key::ALL {
        let spec = key.spec();
        assert_eq!(Key::parse(spec.name), Ok(key));
        assert!(!spec.help.is_empty(), "{key:?}");
        // A default is text the setting's own check accepts.
        if let Some(text) = spec.default {
            assert!(key.from_text(text).is_ok(), "{key:?} default {text:?}");
            assert!(key.default_value().is_some(), "{key:?}");
        }
        if let Kind::Int { min, max } = spec.kind {
            assert!(min <= max, "{key:?}");
            assert_eq!(key.range(), min..=max);
        }
    }
    // With no flag, variable or file, every field of `Settings` resolves.
    let defaults = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
    for key in Key::ALL {
        assert_eq!(
            defaults.get(key).is_some(),
            key.spec().default.is_some() || key == Key::Auth,
            "{key:?}"
        );
    }
    assert_eq!(
        defaults.rate_wait.value,
        crate::api::DEFAULT_RATE_WAIT.as_secs(),
        "rate_wait's default is the client's"
    );
}

#[test]
fn flag_help_and_ranges_come_from_the_table() {
    assert_eq!(
        Key::Jobs.flag_help(),
        "Number of uploads in flight at once, or `auto`: start at 4 and find the level the link and the \
         service take (up to --jobs-max) [env: CAPFILE_JOBS] [default: auto]"
    );
    assert_eq!(
        Key::Namespace.flag_help(),
        "Namespace to upload into [env: CAPFILE_NAMESPACE] [default: rewards]"
    );
    assert_eq!(Key::Jobs.range(), 1..=64);
    assert_eq!(Key::Timeout.range_u64(), 1..=86400);
}

#[test]
fn a_captured_env_is_what_resolution_reads() {
    let env = Env::from_pairs([("CAPFILE_NAMESPACE", "fromenv"), ("CAPFILE_RATE", "")]);
    let resolved = resolve(&Flags::default(), &env, &FileValues::default()).unwrap();
    assert_eq!(
        resolved.namespace,
        Setting::new("fromenv".to_string(), Origin::Env("CAPFILE_NAMESPACE"))
    );
    // An empty variable counts as unset.
    assert_eq!(resolved.rate, None);
}

#[test]
fn use_local_changes_what_get_shows() {
    let mut settings = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
    settings.use_local(url::Url::parse("http://127.0.0.1:7878").unwrap());
    assert_eq!(
        settings.get(Key::BaseUrl),
        Some(("http://127.0.0.1:7878/".to_string(), Origin::Local))
    );
    assert_eq!(settings.base_url.unwrap().origin, Origin::Local);
}

#[test]
fn a_host_without_a_scheme_is_offered_https() {
    let err = crate::settings::parse_base_url("eu.api.capillarytech.com")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "\"eu.api.capillarytech.com\" has no scheme; did you mean \"https://eu.api.capillarytech.com\"?"
    );
}
