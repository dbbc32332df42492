//! Credentials never follow a redirect to another host: capfile stops at the
//! redirect and says so, and the other host hears nothing.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::any;
use common::{capfile_for, run, sample, stderr};

/// The credential headers (Basic's `Authorization`, OAuth's token header) of
/// each request a server received, empty when it sent none.
type Heard = Arc<Mutex<Vec<Vec<String>>>>;

/// Each kind of redirect: 307/308 keep the method and body, 301/302/303 turn
/// an HTTP client's POST into a body-less GET.
const REDIRECTS: [StatusCode; 5] = [
    StatusCode::MOVED_PERMANENTLY,
    StatusCode::FOUND,
    StatusCode::SEE_OTHER,
    StatusCode::TEMPORARY_REDIRECT,
    StatusCode::PERMANENT_REDIRECT,
];

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let (runtime, _) = common::serve_app(Router::new());
    // What the other host heard, recorded here and checked by the test
    // itself: a failed assertion inside a handler only ends that request.
    let other_heard: Heard = Arc::default();
    let heard = other_heard.clone();
    let other = Router::new().fallback(any(move |headers: HeaderMap| {
        let heard = heard.clone();
        async move {
            let credentials = ["authorization", "x-cap-api-oauth-token"]
                .into_iter()
                .filter(|name| headers.contains_key(*name))
                .map(str::to_owned)
                .collect();
            heard.lock().unwrap().push(credentials);
            StatusCode::OK
        }
    }));
    let other_url = common::spawn_app(&runtime, other);
    let target = format!("{other_url}/api_gateway/file-service/rewards/sample.png");

    for status in REDIRECTS {
        let target = target.clone();
        let first = Router::new().fallback(any(move || {
            let target = target.clone();
            async move { (status, [(header::LOCATION, target)]) }
        }));
        let url = common::spawn_app(&runtime, first);

        let home = tempfile::tempdir().unwrap();
        let output = run(capfile_for(&url, home.path()).arg("upload").arg(sample("sample.png")));
        assert_eq!(output.status.code(), Some(1), "{status}: {}", stderr(&output));
        let expected =
            format!("server answered {status} (a redirect to a location on 127.0.0.1); uploads never follow redirects");
        assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    }
    let heard = other_heard.lock().unwrap();
    assert!(
        heard.iter().all(Vec::is_empty),
        "credentials went to the other host: {heard:?}"
    );
    assert!(heard.is_empty(), "the other host was contacted {} times", heard.len());
}
