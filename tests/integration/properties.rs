//! Properties over generated input: remote names survive the trip through the
//! URL and the emulator's decoding, no bytes a server sends can make response
//! parsing panic, and no setting text can make settings parsing panic.

use crate::common;

use capfile::RemoteName;
use capfile::testing::settings::{self, FileValues, Flags, Key};
use proptest::prelude::*;

/// Names from every corner: ASCII punctuation, spaces, percent signs, control
/// characters, non-ASCII letters and emoji.
fn any_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[ -~\x00-\x1f\x7f\u{80}-\u{9f}éß漢字😀\u{202e}%#?/\\]{0,24}").unwrap()
}

proptest! {
    #[test]
    fn a_valid_remote_name_is_one_path_segment_that_decodes_to_itself(name in any_name()) {
        match RemoteName::parse(&name) {
            Err(_) => prop_assert!(
                name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\'])
                    || name.chars().any(char::is_control)
            ),
            Ok(remote) => {
                let segment = remote.url_segment();
                let url = url::Url::parse(&format!("http://h/api_gateway/file-service/rewards/{segment}")).unwrap();
                let segments: Vec<&str> = url.path_segments().unwrap().collect();
                prop_assert_eq!(segments.len(), 4, "{:?} split the path: {}", name, url);
                let decoded = percent_encoding::percent_decode_str(segments[3]).decode_utf8().unwrap();
                prop_assert_eq!(decoded.as_ref(), name.as_str());
                prop_assert!(url.query().is_none() && url.fragment().is_none());
            }
        }
    }

    #[test]
    fn no_bytes_make_response_parsing_panic(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = capfile::parse_uploaded(bytes::Bytes::from(raw));
    }

    #[test]
    fn no_json_shape_makes_response_parsing_panic(
        code in prop_oneof![Just(serde_json::json!(null)), any::<i64>().prop_map(serde_json::Value::from),
                            any::<u64>().prop_map(serde_json::Value::from), ".{0,8}".prop_map(serde_json::Value::from),
                            any::<f64>().prop_map(serde_json::Value::from)],
        status in prop_oneof![Just(serde_json::json!(true)), Just(serde_json::json!(false)), ".{0,8}".prop_map(serde_json::Value::from)],
        version in prop_oneof![any::<i64>().prop_map(serde_json::Value::from), ".{0,8}".prop_map(serde_json::Value::from),
                               any::<f64>().prop_map(serde_json::Value::from)],
        url in ".{0,40}",
    ) {
        let body = serde_json::json!({"code": code, "status": status, "file": {"version": version}, "secureFilePath": url});
        if let Ok(done) = capfile::parse_uploaded(bytes::Bytes::from(body.to_string())) {
            // Whatever is accepted prints on one line and steers no terminal.
            prop_assert!(!done.secure_file_path.chars().any(|c| c.is_control() || c.is_whitespace()));
            prop_assert!(done.version.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn no_setting_text_makes_settings_parsing_panic(text in ".{0,40}", number in any::<i64>()) {
        for key in Key::ALL {
            let mut values = FileValues::default();
            let _ = values.set(key, &toml_edit::Value::from(text.as_str()));
            let _ = values.set(key, &toml_edit::Value::from(number));
        }
        let _ = settings::parse_base_url(&text);
        let lookup = |_: &str| Some(text.clone());
        if let Err(err) = settings::resolve(&Flags::default(), &lookup, &FileValues::default()) {
            prop_assert!(!err.to_string().is_empty());
        }
    }
}

/// The real trip: names sent by capfile's encoding are stored under the same
/// name by the emulator.
#[test]
fn remote_names_round_trip_through_the_emulator() {
    let service = common::Service::start();
    let client = reqwest::Client::new();
    let auth = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!(
                "{}:{}",
                capfile::testing::emulator::DEFAULT_USERNAME,
                capfile::md5_hex(common::PASSWORD).expose()
            )
        )
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(24));
    runner
        .run(&any_name(), |name| {
            let Ok(remote) = RemoteName::parse(&name) else {
                return Ok(());
            };
            let url = format!(
                "{}/api_gateway/file-service/rewards/{}",
                service.base_url(),
                remote.url_segment()
            );
            let (status, body) = service.runtime.block_on(async {
                let response = client
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-length", "0")
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            });
            prop_assert_eq!(status, 200, "{:?}: {}", name, body);
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            prop_assert_eq!(json["file"]["name"].as_str(), Some(name.as_str()));
            Ok(())
        })
        .unwrap();
}
