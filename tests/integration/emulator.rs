//! Integration tests of the local file service: each test starts an emulator
//! on 127.0.0.1 port 0 with its own temporary data directory and talks to it
//! over real HTTP with reqwest, as capfile does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use capfile::testing::emulator::{self, Config, Emulator, Faults, Stats};
use md5::{Digest, Md5};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

struct Fixture {
    dir: tempfile::TempDir,
    emu: Emulator,
    http: reqwest::Client,
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("client")
}

fn localhost() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

async fn start_with(configure: impl FnOnce(&mut Config)) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(dir.path().to_path_buf());
    configure(&mut config);
    let emu = Emulator::start(localhost(), config).await.expect("start");
    Fixture {
        dir,
        emu,
        http: client(),
    }
}

async fn start() -> Fixture {
    start_with(|_| {}).await
}

/// Restarts on the same directory with `configure`d settings.
async fn restart(fx: Fixture, configure: impl FnOnce(&mut Config)) -> Fixture {
    let Fixture { dir, emu, http } = fx;
    emu.shutdown().await;
    let mut config = Config::new(dir.path().to_path_buf());
    configure(&mut config);
    let emu = Emulator::start(localhost(), config).await.expect("restart");
    Fixture { dir, emu, http }
}

fn basic_header(user: &str, password: &str) -> String {
    let md5 = hex::encode(Md5::digest(password.as_bytes()));
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{md5}"));
    format!("Basic {b64}")
}

fn good_basic() -> String {
    basic_header(emulator::DEFAULT_USERNAME, emulator::DEFAULT_PASSWORD)
}

impl Fixture {
    fn upload_url(&self, namespace: &str, name: &str) -> String {
        format!(
            "{}/api_gateway/file-service/{}/{}",
            self.emu.base_url(),
            utf8_percent_encode(namespace, NON_ALPHANUMERIC),
            utf8_percent_encode(name, NON_ALPHANUMERIC)
        )
    }

    async fn multipart(&self, name: &str, bytes: Vec<u8>, mime: &str) -> reqwest::Response {
        let part = Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .expect("mime");
        self.http
            .post(self.upload_url("rewards", name))
            .header("authorization", good_basic())
            .multipart(Form::new().part("file", part))
            .send()
            .await
            .expect("send")
    }

    async fn raw(&self, name: &str, bytes: Vec<u8>, mime: &str) -> reqwest::Response {
        self.http
            .post(self.upload_url("rewards", name))
            .header("authorization", good_basic())
            .header("content-type", mime)
            .body(bytes)
            .send()
            .await
            .expect("send")
    }

    /// Uploads and returns the parsed 200 body.
    async fn upload_ok(&self, name: &str, bytes: Vec<u8>) -> Value {
        json_ok(self.multipart(name, bytes, "image/png").await).await
    }

    /// Every file in the data directory except the key, the writer lock and
    /// the emulator's announcement: what uploads left.
    fn stored_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        walk(self.dir.path(), &mut files);
        files.retain(|f| {
            f.file_name()
                .is_some_and(|n| n != "secret.key" && n != "lock" && n != "serve.json")
        });
        files
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("get")
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

async fn json_ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "body: {text}");
    serde_json::from_str(&text).expect("json")
}

/// Asserts Capillary's error shape with `code` equal to the status.
async fn assert_error(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = serde_json::from_str(&response.text().await.expect("body")).expect("json error body");
    let keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["errors", "warnings"], "{body}");
    assert_eq!(body["warnings"], serde_json::json!([]));
    let error = &body["errors"][0];
    assert_eq!(error["status"], Value::Bool(false));
    assert_eq!(error["code"], Value::from(status.as_u16()));
    error["message"].as_str().expect("message").to_owned()
}

fn secure_url(body: &Value) -> String {
    body["secureFilePath"].as_str().expect("secureFilePath").to_owned()
}

fn version(body: &Value) -> u64 {
    body["file"]["version"].as_u64().expect("version")
}

fn sample_bytes(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..len.saturating_sub(8)).map(|i| (i * 31 % 251) as u8));
    bytes
}

async fn fetch_ok(fx: &Fixture, url: &str) -> (String, Option<String>, Vec<u8>) {
    let response = fx.get(url).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {url}");
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    let length = response
        .headers()
        .get("content-length")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = response.bytes().await.expect("bytes").to_vec();
    (content_type, length, bytes)
}

#[tokio::test]
async fn multipart_upload_round_trips_through_the_secure_url() {
    let fx = start().await;
    // Bigger than axum's default 2 MB body limit, which must be off.
    let bytes = sample_bytes(3 * 1024 * 1024 + 17);
    let body = json_ok(fx.multipart("photo.png", bytes.clone(), "image/png").await).await;
    assert_eq!(body["file"]["content_type"], "image/png");
    assert_eq!(body["file"]["fileSize"], bytes.len().to_string());
    let url = secure_url(&body);
    assert!(url.starts_with(&format!("{}/files/", fx.emu.base_url())), "{url}");
    let (content_type, length, fetched) = fetch_ok(&fx, &url).await;
    assert_eq!(content_type, "image/png");
    assert_eq!(length, Some(bytes.len().to_string()));
    assert!(fetched == bytes, "fetched bytes differ");
}

#[tokio::test]
async fn raw_upload_round_trips_through_the_secure_url() {
    let fx = start().await;
    let bytes = sample_bytes(70_000);
    let body = json_ok(fx.raw("pic.jpg", bytes.clone(), "image/jpeg").await).await;
    assert_eq!(body["file"]["name"], "pic.jpg");
    assert_eq!(body["file"]["content_type"], "image/jpeg");
    assert_eq!(body["file"]["fileSize"], "70000");
    let (content_type, length, fetched) = fetch_ok(&fx, &secure_url(&body)).await;
    assert_eq!(content_type, "image/jpeg");
    assert_eq!(length.as_deref(), Some("70000"));
    assert!(fetched == bytes, "fetched bytes differ");
}

#[tokio::test]
async fn empty_body_and_file_less_multipart_create_placeholders() {
    let fx = start().await;
    let empty = fx
        .http
        .post(fx.upload_url("rewards", "later.png"))
        .header("authorization", good_basic())
        .send()
        .await
        .expect("send");
    let empty = json_ok(empty).await;
    assert_eq!(empty["file"]["fileSize"], "0");
    assert_eq!(empty["file"]["content_type"], "application/octet-stream");
    assert_eq!(version(&empty), 1);

    let no_file = fx
        .http
        .post(fx.upload_url("rewards", "later.png"))
        .header("authorization", good_basic())
        .multipart(Form::new().text("note", "no file here"))
        .send()
        .await
        .expect("send");
    let no_file = json_ok(no_file).await;
    assert_eq!(no_file["file"]["fileSize"], "0");
    assert_eq!(no_file["file"]["content_type"], "application/octet-stream");
    assert_eq!(version(&no_file), 2);

    let (content_type, length, fetched) = fetch_ok(&fx, &secure_url(&no_file)).await;
    assert_eq!(content_type, "application/octet-stream");
    assert_eq!(length.as_deref(), Some("0"));
    assert!(fetched.is_empty());
}

#[tokio::test]
async fn response_matches_the_vendor_sample_in_keys_order_and_types() {
    let fx = start().await;
    let response = fx.multipart("test.png", sample_bytes(51), "image/png").await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let body = json_ok(response).await;
    let top: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(top, ["code", "status", "message", "file", "secureFilePath"]);
    let file = body["file"].as_object().expect("file object");
    let keys: Vec<&str> = file.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "name",
            "namespace",
            "version",
            "acl",
            "fileSize",
            "file_handle",
            "content_type",
            "s3_token",
            "latest_version",
            "last_modified",
            "s3_url"
        ]
    );
    assert_eq!(body["code"], Value::from(200));
    assert!(body["code"].is_u64());
    assert_eq!(body["status"], Value::from("true"));
    assert_eq!(body["message"], "Successfully uploaded file");
    assert_eq!(file["name"], "test.png");
    assert_eq!(file["namespace"], "rewards");
    assert!(file["version"].is_u64());
    assert!(file["latest_version"].is_u64());
    assert_eq!(file["version"], file["latest_version"]);
    assert_eq!(file["acl"], "PRIVATE");
    assert_eq!(file["fileSize"], Value::from("51"));
    let handle = uuid::Uuid::parse_str(file["file_handle"].as_str().expect("string")).expect("file_handle is a uuid");
    assert_eq!(handle.get_version_num(), 4);
    assert_eq!(file["content_type"], "image/png");

    let token = file["s3_token"].as_str().expect("string");
    let parts: Vec<&str> = token.split('/').collect();
    assert_eq!(parts.len(), 3, "{token}");
    assert_eq!(parts[0], "rewards");
    assert!(parts[1].bytes().all(|b| b.is_ascii_digit()), "{token}");
    let (object, ext) = parts[2].split_once('.').expect("extension");
    assert!(uuid::Uuid::parse_str(object).is_ok(), "{token}");
    assert_eq!(ext, "png");
    assert_eq!(file["s3_url"], format!("s3:/capfile-local/{token}"));

    let modified = file["last_modified"].as_str().expect("string");
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    // UTC "now" in that format, give or take the time the request took.
    let now = time::OffsetDateTime::now_utc();
    let recent: Vec<String> = (-10..=1)
        .map(|s| (now + time::Duration::seconds(s)).format(format).expect("format"))
        .collect();
    assert!(recent.iter().any(|r| r == modified), "{modified} not in {recent:?}");

    assert!(body["secureFilePath"].is_string());
}

#[tokio::test]
async fn versions_count_per_name_and_continue_after_restart() {
    let fx = start().await;
    for expected in 1..=3 {
        let body = fx.upload_ok("v.png", sample_bytes(10 + expected as usize)).await;
        assert_eq!(version(&body), expected);
        assert_eq!(body["file"]["latest_version"], Value::from(expected));
    }
    // Counted per name and per namespace.
    assert_eq!(version(&fx.upload_ok("other.png", sample_bytes(9)).await), 1);
    let elsewhere = fx
        .http
        .post(fx.upload_url("customerImage", "v.png"))
        .header("authorization", good_basic())
        .body(sample_bytes(9))
        .send()
        .await
        .expect("send");
    let elsewhere = json_ok(elsewhere).await;
    assert_eq!(elsewhere["file"]["namespace"], "customerImage");
    assert_eq!(version(&elsewhere), 1);

    let third = fx.upload_ok("v.png", sample_bytes(40)).await;
    assert_eq!(version(&third), 4);
    let old_base = fx.emu.base_url();
    let old_url = secure_url(&third);

    let fx = restart(fx, |_| {}).await;
    assert_eq!(version(&fx.upload_ok("v.png", sample_bytes(5)).await), 5);
    assert_eq!(version(&fx.upload_ok("other.png", sample_bytes(5)).await), 2);
    // URLs signed before the restart still work (the key is kept on disk).
    let moved = old_url.replacen(&old_base, &fx.emu.base_url(), 1);
    let (_, _, fetched) = fetch_ok(&fx, &moved).await;
    assert!(fetched == sample_bytes(40));
    fx.emu.shutdown().await;
}

#[tokio::test]
async fn concurrent_uploads_of_one_name_get_distinct_consecutive_versions() {
    let fx = start().await;
    let uploads = (0..20).map(|i| fx.upload_ok("same.png", sample_bytes(100 + i)));
    let bodies = futures_util::future::join_all(uploads).await;
    let mut versions: Vec<u64> = bodies.iter().map(version).collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=20).collect::<Vec<u64>>());
    // Each version holds the bytes of the upload that got it.
    for body in &bodies {
        let size: usize = body["file"]["fileSize"]
            .as_str()
            .expect("string")
            .parse()
            .expect("number");
        let (_, _, fetched) = fetch_ok(&fx, &secure_url(body)).await;
        assert!(fetched == sample_bytes(size));
    }
    assert_eq!(fx.emu.stats().uploads_stored, 20);
}

#[tokio::test]
async fn awkward_names_reach_storage_intact() {
    let fx = start().await;
    for name in [
        "a b.png",
        "x#y.png",
        "100%.png",
        "what?.png",
        "plus+and&amp=.png",
        "ünïcødé 画像.png",
    ] {
        let body = fx.upload_ok(name, sample_bytes(20)).await;
        assert_eq!(body["file"]["name"], name);
        assert_eq!(version(&body), 1, "{name}");
        let (_, _, fetched) = fetch_ok(&fx, &secure_url(&body)).await;
        assert!(fetched == sample_bytes(20), "{name}");
    }
}

/// Sends one HTTP/1.1 request as written (no URL normalisation, unlike a
/// client library) and returns the status and body of the answer, if any.
async fn raw_http(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // The server may stop reading early; a failed write is then fine.
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.get(9..12)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

#[tokio::test]
async fn invalid_names_are_refused_with_400() {
    let fx = start().await;
    for name in [
        "..",
        ".",
        "%2E%2E",
        "%2e",
        "a%2Fb.png",
        "a%5Cb.png",
        "a%00b.png",
        "a%0Ab",
        "%FF.png",
        "",
    ] {
        let head = format!(
            "POST /api_gateway/file-service/rewards/{name} HTTP/1.1\r\nhost: x\r\n\
             authorization: {}\r\ncontent-length: 1\r\nconnection: close\r\n\r\n",
            good_basic()
        );
        let (status, body) = raw_http(fx.emu.addr(), &head, b"x").await.expect("an answer");
        assert_eq!(status, 400, "{name:?}: {body}");
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["errors"][0]["code"], Value::from(400), "{name:?}");
        assert_eq!(body["warnings"], serde_json::json!([]));
    }
    // An invalid namespace is refused the same way.
    let response = fx
        .http
        .post(fx.upload_url("a/b", "ok.png"))
        .header("authorization", good_basic())
        .body("x")
        .send()
        .await
        .expect("send");
    assert_error(response, StatusCode::BAD_REQUEST).await;
    assert!(fx.stored_files().is_empty(), "{:?}", fx.stored_files());
    assert_eq!(fx.emu.stats().uploads_stored, 0);
}

#[tokio::test]
async fn wrong_or_missing_basic_credentials_get_401_and_store_nothing() {
    let fx = start().await;
    let url = fx.upload_url("rewards", "a.png");
    for auth in [
        Some(basic_header(emulator::DEFAULT_USERNAME, "wrong")),
        Some(basic_header("someone", emulator::DEFAULT_PASSWORD)),
        None,
    ] {
        let mut request = fx.http.post(&url).body(sample_bytes(30));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = serde_json::from_str(&response.text().await.expect("body")).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"errors":[{"status":false,"code":401,"message":"Authentication failed"}],"warnings":[]})
        );
    }
    let stats = fx.emu.stats();
    assert_eq!(stats.auth_failures, 3);
    assert_eq!(stats.upload_requests, 3);
    assert_eq!(stats.uploads_stored, 0);
    assert!(fx.stored_files().is_empty(), "{:?}", fx.stored_files());
    assert_eq!(version(&fx.upload_ok("a.png", sample_bytes(3)).await), 1);
}

async fn generate_token(fx: &Fixture, key: &str, secret: &str) -> reqwest::Response {
    fx.http
        .post(format!("{}/v3/oauth/token/generate", fx.emu.base_url()))
        .header("content-type", "application/json")
        .body(serde_json::json!({"key": key, "secret": secret}).to_string())
        .send()
        .await
        .expect("send")
}

async fn upload_with_token(fx: &Fixture, token: &str) -> reqwest::Response {
    fx.http
        .post(fx.upload_url("rewards", "oauth.png"))
        .header("X-CAP-API-OAUTH-TOKEN", token)
        .header("content-type", "image/png")
        .body(sample_bytes(12))
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn oauth_token_flow() {
    let fx = start().await;
    let response = generate_token(&fx, emulator::DEFAULT_CLIENT_KEY, emulator::DEFAULT_CLIENT_SECRET).await;
    let body = json_ok(response).await;
    let keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["data", "errors"]);
    assert_eq!(body["errors"], Value::Null);
    assert_eq!(body["data"]["ttlSeconds"], Value::from(300));
    let token = body["data"]["accessToken"].as_str().expect("token");
    assert_eq!(token.split('.').count(), 3, "JWT-shaped: {token}");

    let uploaded = json_ok(upload_with_token(&fx, token).await).await;
    assert_eq!(version(&uploaded), 1);

    let bad = generate_token(&fx, emulator::DEFAULT_CLIENT_KEY, "nope").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let bad: Value = serde_json::from_str(&bad.text().await.expect("body")).expect("json");
    assert_eq!(
        bad,
        serde_json::json!({"data":null,"errors":[{"code":320001,"message":"Invalid client key and secret"}]})
    );
    let bad_key = generate_token(&fx, "nobody", emulator::DEFAULT_CLIENT_SECRET).await;
    assert_eq!(bad_key.status(), StatusCode::UNAUTHORIZED);

    let garbage = fx
        .http
        .post(format!("{}/v3/oauth/token/generate", fx.emu.base_url()))
        .body("not json")
        .send()
        .await
        .expect("send");
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);

    // A token with a forged signature, and one not even JWT-shaped.
    let (signed, _) = token.rsplit_once('.').expect("three parts");
    let forged = format!("{signed}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    for token in [forged.as_str(), "garbage"] {
        assert_error(upload_with_token(&fx, token).await, StatusCode::UNAUTHORIZED).await;
    }

    let stats = fx.emu.stats();
    assert_eq!(stats.token_requests, 4);
    assert_eq!(stats.auth_failures, 4);
    assert_eq!(stats.uploads_stored, 1);
}

#[tokio::test]
async fn expired_token_gets_401() {
    let clock = emulator::Clock::default();
    let fx = start_with(|c| {
        c.token_ttl = Duration::from_secs(60);
        c.clock = clock.clone();
    })
    .await;
    let body = json_ok(generate_token(&fx, emulator::DEFAULT_CLIENT_KEY, emulator::DEFAULT_CLIENT_SECRET).await).await;
    assert_eq!(body["data"]["ttlSeconds"], Value::from(60));
    let token = body["data"]["accessToken"].as_str().expect("token");
    json_ok(upload_with_token(&fx, token).await).await;
    clock.advance(Duration::from_secs(61));
    assert_error(upload_with_token(&fx, token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(fx.emu.stats().uploads_stored, 1);
}

#[tokio::test]
async fn tokens_die_when_the_client_secret_changes() {
    let fx = start().await;
    let body = json_ok(generate_token(&fx, emulator::DEFAULT_CLIENT_KEY, emulator::DEFAULT_CLIENT_SECRET).await).await;
    let token = body["data"]["accessToken"].as_str().expect("token").to_owned();
    let fx = restart(fx, |_| {}).await;
    json_ok(upload_with_token(&fx, &token).await).await;
    let fx = restart(fx, |c| c.client_secret = "rotated".into()).await;
    assert_error(upload_with_token(&fx, &token).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn tampered_or_unsigned_urls_get_403() {
    let fx = start().await;
    let url = secure_url(&fx.upload_ok("t.png", sample_bytes(10)).await);
    let (path, query) = url.split_once('?').expect("query");
    let signature = query
        .split('&')
        .find_map(|p| p.strip_prefix("signature="))
        .expect("signature");
    let expires = query
        .split('&')
        .find_map(|p| p.strip_prefix("expires="))
        .expect("expires");
    let flipped: String = signature
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 5 { if c == '0' { '1' } else { '0' } } else { c })
        .collect();
    let later: u64 = expires.parse::<u64>().expect("number") + 1000;
    let other_object = path.replacen("/files/rewards/", "/files/customerImage/", 1);
    for bad in [
        format!("{path}?expires={expires}&signature={flipped}"),
        format!("{path}?expires={later}&signature={signature}"),
        format!("{path}?expires={expires}"),
        path.to_owned(),
        format!("{other_object}?{query}"),
    ] {
        assert_error(fx.get(&bad).await, StatusCode::FORBIDDEN).await;
    }
    fetch_ok(&fx, &url).await;
}

#[tokio::test]
async fn expired_url_gets_403() {
    let clock = emulator::Clock::default();
    let fx = start_with(|c| {
        c.url_ttl = Duration::from_secs(60);
        c.clock = clock.clone();
    })
    .await;
    let url = secure_url(&fx.upload_ok("e.png", sample_bytes(10)).await);
    fetch_ok(&fx, &url).await;
    clock.advance(Duration::from_secs(61));
    let message = assert_error(fx.get(&url).await, StatusCode::FORBIDDEN).await;
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn unknown_routes_get_404_and_wrong_methods_405() {
    let fx = start().await;
    let base = fx.emu.base_url();
    assert_error(fx.get(&format!("{base}/nothing/here")).await, StatusCode::NOT_FOUND).await;
    assert_error(
        fx.http
            .post(format!("{base}/api_gateway/file-service/rewards/a/b"))
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let response = fx.get(&fx.upload_url("rewards", "a.png")).await;
    assert_eq!(response.headers()["allow"], "POST");
    assert_error(response, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_error(
        fx.http
            .put(fx.upload_url("rewards", "a.png"))
            .header("authorization", good_basic())
            .body("x")
            .send()
            .await
            .expect("send"),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert_eq!(fx.emu.stats().upload_requests, 0);
}

#[tokio::test]
async fn injected_failures_carry_retry_after_and_store_nothing() {
    let fx = start_with(|c| {
        c.faults = Faults {
            fail_rate: 1.0,
            retry_after: Some(7),
            ..Faults::default()
        }
    })
    .await;
    for _ in 0..3 {
        let response = fx.raw("f.png", sample_bytes(100), "image/png").await;
        assert_eq!(response.headers()["retry-after"], "7");
        assert_error(response, StatusCode::SERVICE_UNAVAILABLE).await;
    }
    assert_eq!(
        fx.emu.stats(),
        Stats {
            upload_requests: 3,
            faults_injected: 3,
            ..Stats::default()
        }
    );
    assert!(fx.stored_files().is_empty(), "{:?}", fx.stored_files());

    let fx = restart(fx, |c| {
        c.faults = Faults {
            fail_rate: 1.0,
            fail_status: 500,
            ..Faults::default()
        }
    })
    .await;
    let response = fx.raw("f.png", sample_bytes(100), "image/png").await;
    assert!(response.headers().get("retry-after").is_none());
    assert_error(response, StatusCode::INTERNAL_SERVER_ERROR).await;

    let fx = restart(fx, |_| {}).await;
    assert_eq!(version(&fx.upload_ok("f.png", sample_bytes(5)).await), 1);
}

#[tokio::test]
async fn dropped_connections_fail_the_client_and_leave_nothing() {
    let fx = start_with(|c| c.faults.drop_rate = 1.0).await;
    let big = fx
        .http
        .post(fx.upload_url("rewards", "d.png"))
        .header("authorization", good_basic())
        .header("content-type", "image/png")
        .body(sample_bytes(4 * 1024 * 1024))
        .send()
        .await;
    assert!(big.is_err(), "raw upload should fail, got {big:?}");
    let part = Part::bytes(sample_bytes(200_000))
        .file_name("d.png")
        .mime_str("image/png")
        .expect("mime");
    let multipart = fx
        .http
        .post(fx.upload_url("rewards", "d.png"))
        .header("authorization", good_basic())
        .multipart(Form::new().part("file", part))
        .send()
        .await;
    assert!(multipart.is_err(), "multipart upload should fail, got {multipart:?}");
    let placeholder = fx
        .http
        .post(fx.upload_url("rewards", "d.png"))
        .header("authorization", good_basic())
        .send()
        .await;
    assert!(placeholder.is_err(), "placeholder should fail, got {placeholder:?}");

    // The server drops the request with the connection; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !fx.stored_files().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(fx.stored_files().is_empty(), "{:?}", fx.stored_files());
    let stats = fx.emu.stats();
    assert_eq!(stats.faults_injected, 3);
    assert_eq!(stats.uploads_stored, 0);

    let fx = restart(fx, |_| {}).await;
    assert_eq!(version(&fx.upload_ok("d.png", sample_bytes(5)).await), 1);
}

#[tokio::test]
async fn bodies_cut_short_by_the_client_leave_nothing() {
    let fx = start().await;
    let mut multipart = b"--BOUNDARY\r\ncontent-disposition: form-data; name=\"file\"; \
        filename=\"cut.png\"\r\ncontent-type: image/png\r\n\r\n"
        .to_vec();
    multipart.extend(sample_bytes(50_000));
    let cases = [
        // Raw body: more bytes announced than sent.
        ("image/png", "100000", sample_bytes(50_000)),
        // Multipart: more bytes announced than sent.
        ("multipart/form-data; boundary=BOUNDARY", "100000", multipart.clone()),
        // Multipart: every announced byte sent, but the closing boundary
        // never comes, so the file part may be incomplete.
        (
            "multipart/form-data; boundary=BOUNDARY",
            &multipart.len().to_string(),
            multipart.clone(),
        ),
    ];
    for (content_type, length, body) in cases {
        let head = format!(
            "POST /api_gateway/file-service/rewards/cut.png HTTP/1.1\r\nhost: x\r\n\
             authorization: {}\r\ncontent-type: {content_type}\r\n\
             content-length: {length}\r\n\r\n",
            good_basic()
        );
        let answer = raw_http(fx.emu.addr(), &head, &body).await;
        assert!(
            answer.as_ref().is_none_or(|(status, _)| *status != 200),
            "{content_type}: {answer:?}"
        );
    }

    let deadline = Instant::now() + Duration::from_secs(2);
    while !fx.stored_files().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(fx.stored_files().is_empty(), "{:?}", fx.stored_files());
    assert_eq!(fx.emu.stats().upload_requests, 3);
    assert_eq!(fx.emu.stats().uploads_stored, 0);
    assert_eq!(version(&fx.upload_ok("cut.png", sample_bytes(5)).await), 1);
}

#[tokio::test]
async fn latency_is_added_to_each_request() {
    let fx = start_with(|c| c.faults.latency = Duration::from_millis(300)).await;
    let started = Instant::now();
    fx.upload_ok("slow.png", sample_bytes(5)).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    let _ = fx.get(&format!("{}/nothing", fx.emu.base_url())).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    let fx = start_with(|c| c.faults.latency = Duration::from_millis(500)).await;
    let url = fx.upload_url("rewards", "inflight.png");
    let http = fx.http.clone();
    let in_flight = tokio::spawn(async move {
        http.post(url)
            .header("authorization", good_basic())
            .body(sample_bytes(64))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let addr = fx.emu.addr();
    let started = Instant::now();
    fx.emu.shutdown().await;
    assert!(started.elapsed() >= Duration::from_millis(200), "did not wait");
    let response = in_flight.await.expect("join").expect("in-flight request");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn stats_count_each_kind_of_request() {
    let fx = start().await;
    assert_eq!(fx.emu.stats(), Stats::default());
    fx.upload_ok("s.png", sample_bytes(5)).await;
    fx.upload_ok("s.png", sample_bytes(5)).await;
    let _ = generate_token(&fx, "x", "y").await;
    let _ = generate_token(&fx, emulator::DEFAULT_CLIENT_KEY, emulator::DEFAULT_CLIENT_SECRET).await;
    let _ = fx
        .http
        .post(fx.upload_url("rewards", "s.png"))
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(
        fx.emu.stats(),
        Stats {
            upload_requests: 3,
            uploads_stored: 2,
            token_requests: 2,
            auth_failures: 2,
            faults_injected: 0,
            rate_limited: 0,
        }
    );
}

#[test]
fn defaults_are_documented_values() {
    assert_eq!(emulator::DEFAULT_ADDR, "127.0.0.1:7878");
    let config = Config::new(PathBuf::from("d"));
    assert_eq!(config.username, "capfile");
    assert_eq!(config.password, "capfile");
    assert_eq!(config.client_key, "capfile-local");
    assert_eq!(config.client_secret, "capfile-local-secret");
    assert_eq!(config.token_ttl, Duration::from_secs(300));
    assert_eq!(config.url_ttl, Duration::from_secs(3600));
    assert_eq!(config.public_url, None);
    assert_eq!(config.faults.fail_status, 503);
    let data_dir = emulator::default_data_dir();
    assert!(
        data_dir.ends_with("capfile/emulator") || data_dir.ends_with("capfile-emulator"),
        "{data_dir:?}"
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains("capfile-local-secret"), "{debug}");
}

#[tokio::test]
async fn public_url_sets_the_base_of_secure_urls() {
    let fx = start_with(|c| c.public_url = Some("https://files.example.test/".into())).await;
    let url = secure_url(&fx.upload_ok("p.png", sample_bytes(5)).await);
    assert!(url.starts_with("https://files.example.test/files/rewards/"), "{url}");
}

#[tokio::test]
async fn validly_signed_url_of_a_missing_object_gets_404() {
    let fx = start().await;
    let body = fx.upload_ok("gone.png", sample_bytes(10)).await;
    let url = secure_url(&body);
    fetch_ok(&fx, &url).await;
    // Remove the object behind the URL (its files are named by the UUID in
    // s3_token); the signature stays valid.
    let token = body["file"]["s3_token"].as_str().expect("string");
    let object = token.rsplit('/').next().and_then(|f| f.split('.').next());
    let object = object.expect("uuid");
    let removed: Vec<PathBuf> = fx
        .stored_files()
        .into_iter()
        .filter(|f| f.file_name().is_some_and(|n| n.to_string_lossy().starts_with(object)))
        .collect();
    assert!(!removed.is_empty(), "no file named after {object}");
    for file in &removed {
        std::fs::remove_file(file).expect("remove");
    }
    assert_error(fx.get(&url).await, StatusCode::NOT_FOUND).await;
}

/// The emulator takes no namespace that capfile itself would refuse to send.
#[tokio::test]
async fn namespaces_the_client_refuses_are_refused_with_400() {
    let fx = start().await;
    for namespace in ["a%20b", "bad!ns", "caf%C3%A9", "%2E", "a%3Bb", "a%22b", "x%09y"] {
        let head = format!(
            "POST /api_gateway/file-service/{namespace}/ok.png HTTP/1.1\r\nhost: x\r\n\
             authorization: {}\r\ncontent-length: 1\r\nconnection: close\r\n\r\n",
            good_basic()
        );
        let (status, body) = raw_http(fx.emu.addr(), &head, b"x").await.expect("an answer");
        assert_eq!(status, 400, "{namespace:?}: {body}");
        assert!(body.contains("Invalid namespace"), "{namespace:?}: {body}");
    }
    for namespace in ["rewards", "customerImage", "a-b_c.d"] {
        json_ok(
            fx.http
                .post(fx.upload_url(namespace, "ok.png"))
                .header("authorization", good_basic())
                .header("content-type", "image/png")
                .body(sample_bytes(100))
                .send()
                .await
                .expect("send"),
        )
        .await;
    }
    assert_eq!(fx.emu.stats().uploads_stored, 3);
}

/// What was uploaded as `text/html` (or SVG, or anything but a plain image
/// type) comes back as a download, never as a page a browser would run.
#[tokio::test]
async fn only_image_types_are_served_as_such_and_nothing_is_sniffed() {
    let fx = start().await;
    for (mime, served, attachment) in [
        ("image/png", "image/png", false),
        ("text/html", "application/octet-stream", true),
        ("image/svg+xml", "application/octet-stream", true),
        ("application/javascript", "application/octet-stream", true),
    ] {
        let body = json_ok(
            fx.raw("page.png", b"<html><script>alert(1)</script>".to_vec(), mime)
                .await,
        )
        .await;
        let response = fx.get(&secure_url(&body)).await;
        assert_eq!(response.status(), StatusCode::OK, "{mime}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], served, "{mime}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{mime}");
        assert_eq!(
            headers.get("content-disposition").map(|v| v.to_str().unwrap()),
            attachment.then_some("attachment"),
            "{mime}"
        );
    }
}

/// The store's folders are private whatever the umask: `capfile serve` run
/// under umask 000.
#[cfg(unix)]
#[test]
fn store_folders_are_private_under_umask_000() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data-dir");
    let mut cmd = crate::common::std_capfile(home.path());
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: umask is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("serve starts");
    // The store is opened before the server listens; wait for its last
    // folder (generously: this is not a timing test).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !data.join("names").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let modes: Vec<(String, u32)> = ["tmp", "objects", "names"]
        .iter()
        .map(|dir| {
            let mode = std::fs::metadata(data.join(dir))
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            (dir.to_string(), mode)
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    for (dir, mode) in modes {
        assert_eq!(mode, 0o700, "{dir} is {mode:o}");
    }
}
