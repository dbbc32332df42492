//! `--json` prints the service's response body as received: same keys, same
//! order, same values, nothing added or dropped — even fields capfile does not
//! know. A tiny server here answers with such a body.

use crate::common;

use axum::Router;
use axum::routing::post;
use common::{capfile_for, run, sample, stderr, stdout};

/// Unknown fields, an unusual key order, and number spellings a JSON library
/// would rewrite (2.50, 1e3).
const BODY: &str = r#"{"zeta":{"nested":[1,2.50,1e3]},"code":200,"status":"true","message":"Successfully uploaded file","file":{"version":7,"name":"x.png","extra_unknown":"kept","fileSize":"51"},"secureFilePath":"https://files.example/x.png?sig=a%2Fb","trailing":null}"#;

fn serve(body: &'static str) -> (tokio::runtime::Runtime, String) {
    let app = Router::new().route(
        "/api_gateway/file-service/{namespace}/{name}",
        post(move || async move { ([("content-type", "application/json")], body) }),
    );
    common::serve_app(app)
}

fn upload_json(base_url: &str) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    run(capfile_for(base_url, home.path())
        .args(["upload", "--json"])
        .arg(sample("sample.png")))
}

#[test]
fn json_is_the_body_byte_for_byte() {
    let (_runtime, url) = serve(BODY);
    let output = upload_json(&url);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{BODY}\n"));
}

#[test]
fn a_pretty_body_becomes_one_line_with_the_same_tokens() {
    let pretty: &'static str = Box::leak(
        BODY.replace(",\"", ",\n    \"")
            .replace("{\"", "{\n  \"")
            .into_boxed_str(),
    );
    assert_ne!(pretty, BODY);
    let (_runtime, url) = serve(pretty);
    let output = upload_json(&url);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{BODY}\n"));
}

#[test]
fn table_reads_the_known_fields() {
    let (_runtime, url) = serve(BODY);
    let home = tempfile::tempdir().unwrap();
    let output = run(capfile_for(&url, home.path()).arg("upload").arg(sample("sample.png")));
    assert_eq!(stdout(&output), "x.png\t7\thttps://files.example/x.png?sig=a%2Fb\n");
}
