use super::*;
use proptest::prelude::*;

fn scrubber(secrets: &[&str]) -> Scrubber {
    let mut s = Scrubber::default();
    for secret in secrets {
        s.add(secret);
    }
    s
}

/// Whether `text` holds `secret` in any form, after any decoding.
fn holds(text: &str, secret: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let mut views = vec![lower.clone()];
    for _ in 0..DECODE_ROUNDS {
        let more: Vec<String> = views
            .iter()
            .flat_map(|v| [percent_decoded(v), json_unescaped(v)])
            .flatten()
            .collect();
        views.extend(more);
    }
    let secret = secret.to_ascii_lowercase();
    views.iter().any(|v| v.contains(&secret))
        || forms(&secret)
            .iter()
            .any(|form| lower.contains(&form.to_ascii_lowercase()))
}

#[test]
fn each_form_of_a_secret_is_scrubbed() {
    let md5 = "8a16a6b70505eb1f1ff7cdc0cd5559a7";
    let basic = "c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3";
    let secret = "s3cr/t+K=y";
    let s = scrubber(&[md5, basic, secret]);
    for text in [
        format!("Authorization: Basic {basic}"),
        format!("{{\"echo\":\"{}\"}}", md5.to_uppercase()),
        r#"{"secret":"s3cr\/t+K=y"}"#.to_string(),
        r#"{"secret":"\u0073\u0033\u0063\u0072\u002F\u0074\u002b\u004b\u003d\u0079"}"#.to_string(),
        "secret=s3cr%2Ft%2BK%3Dy".to_string(),
        "secret=s3cr%2ft%2bk%3dy".to_string(),
        // Partly encoded, partly escaped: found once decoded.
        r"s3c\u0072%2Ft+K=y".to_string(),
        // The MD5 inside base64 of a longer text, at each alignment.
        base64::engine::general_purpose::STANDARD.encode(format!("x:{md5}:y")),
        base64::engine::general_purpose::STANDARD.encode(format!("xy:{md5}")),
        base64::engine::general_purpose::STANDARD.encode(format!(":{md5}")),
    ] {
        let clean = s.scrub(&text);
        assert!(clean.contains(REDACTED), "{text} -> {clean}");
        for secret in [md5, basic, secret] {
            assert!(!holds(&clean, secret), "{text} -> {clean}");
        }
    }
    assert_eq!(s.scrub("nothing here"), "nothing here");
}

#[test]
fn short_values_are_not_secrets() {
    let s = scrubber(&["p", "abc"]);
    assert_eq!(s.scrub("a path, abc"), "a path, abc");
}

#[test]
fn json_bodies_stay_json_and_are_rewritten_only_when_needed() {
    let s = scrubber(&["t0k3n-value"]);
    let body = Bytes::from_static(br#"{"b":1,"a":"x\/y"}"#);
    assert_eq!(s.scrub_body(body.clone()), body);
    let body = Bytes::from_static(br#"{"t0k3n-value":"\u0074\u0030k3n-value","n":[1,"ok"]}"#);
    let clean = s.scrub_body(body);
    let value: serde_json::Value = serde_json::from_slice(&clean).unwrap();
    assert_eq!(value, serde_json::json!({"REDACTED": "REDACTED", "n": [1, "ok"]}));
    let clean = s.scrub_body(Bytes::from_static(b"\xff t0k3n-VALUE \xfe"));
    assert_eq!(&clean[..], b"\xff REDACTED \xfe");
}

#[test]
fn base_urls_lose_user_info_wherever_the_parser_finds_it() {
    for (text, shown) in [
        ("https:///u:PW@host", "https://***@host/"),
        ("https:\\\\u:PW@host/x", "https://***@host/x"),
        ("https://u:PW@h:8443/p@x?q", "https://***@h:8443/p@x?q"),
        ("HTTPS://u@h", "https://***@h/"),
        ("https://u:PW@[bad/", "https://***@[bad/"),
        ("https:////u:PW@", "https:////***@"),
        ("u:PW@host", "u:***@host"),
    ] {
        assert_eq!(redact_url_userinfo(text), shown, "{text}");
    }
    for plain in ["https://h/p@x", "https://h.example", "not a url"] {
        assert_eq!(redact_url_userinfo(plain), plain);
    }
}

/// A secret written in one of the forms a server might echo it in.
fn encoded(secret: &str, form: u8, upper: bool) -> String {
    let hex_case = |s: String| if upper { s.to_uppercase() } else { s };
    match form % 6 {
        0 => secret.to_string(),
        1 => serde_json::to_string(secret)
            .unwrap()
            .trim_matches('"')
            .replace('/', "\\/"),
        2 => secret
            .encode_utf16()
            .map(|u| hex_case(format!("\\u{u:04x}")).replace("\\U", "\\u"))
            .collect(),
        3 => hex_case(utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string()),
        4 => hex_case(secret.bytes().map(|b| format!("%{b:02x}")).collect()),
        _ => serde_json::to_string(&utf8_percent_encode(secret, COMPONENT).to_string())
            .unwrap()
            .trim_matches('"')
            .to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_form_of_a_secret_survives(
        secret in "[ -~]{4,24}|[a-f0-9]{32}|[A-Za-z0-9+/]{20,40}={0,2}",
        before in "[ -~\u{e9}\u{2028}]{0,40}",
        after in "[ -~\u{e9}\u{2028}]{0,40}",
        form in any::<u8>(),
        upper in any::<bool>(),
        in_base64 in any::<bool>(),
    ) {
        let s = scrubber(&[&secret]);
        let text = if in_base64 {
            let inner = format!("{before}{secret}{after}");
            format!("{before}{}{after}", base64::engine::general_purpose::STANDARD.encode(inner))
        } else {
            format!("{before}{}{after}", encoded(&secret, form, upper))
        };
        let clean = s.scrub(&text);
        prop_assert!(!holds(&clean, &secret), "{text:?} -> {clean:?}");
        let body = s.scrub_body(Bytes::from(serde_json::json!({ "m": text }).to_string()));
        let body = String::from_utf8(body.to_vec()).unwrap();
        prop_assert!(!holds(&body, &secret), "{body}");
    }
}

#[test]
fn a_password_equal_to_the_user_name_is_not_hidden() {
    let mut s = scrubber(&["capfile", "0123456789abcdef"]);
    s.remove("capfile");
    assert_eq!(s.scrub("capfile 0123456789ABCDEF"), "capfile REDACTED");
}

#[test]
fn header_values_are_scrubbed_and_others_kept_byte_for_byte() {
    use reqwest::header::{HeaderMap, HeaderValue};
    remember("h3ader-secret-value");
    let mut headers = HeaderMap::new();
    headers.insert("x-echo", HeaderValue::from_static("Basic h3ader-secret-value"));
    headers.insert("x-bytes", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
    headers.append("x-echo", HeaderValue::from_static("plain"));
    let clean = scrub_headers(&headers);
    let echoes: Vec<_> = clean.get_all("x-echo").iter().collect();
    assert_eq!(echoes, ["Basic REDACTED", "plain"]);
    assert_eq!(clean["x-bytes"].as_bytes(), b"caf\xc3\xa9");
}
