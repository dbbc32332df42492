//! Credentials never follow a redirect to another host: capfile stops at the
//! redirect and says so, and the other host hears nothing.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::any;
use common::{capfile_for, run, sample, stderr};

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let (runtime, _) = common::serve_app(Router::new());
    let other_hits = Arc::new(AtomicUsize::new(0));
    let hits = other_hits.clone();
    let other = Router::new().fallback(any(move |headers: HeaderMap| {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            assert!(headers.get(header::AUTHORIZATION).is_none());
            StatusCode::OK
        }
    }));
    let other_url = common::spawn_app(&runtime, other);

    let target = format!("{other_url}/api_gateway/file-service/rewards/sample.png");
    let first = Router::new().fallback(any(move || {
        let target = target.clone();
        async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]) }
    }));
    let url = common::spawn_app(&runtime, first);

    let home = tempfile::tempdir().unwrap();
    let output = run(capfile_for(&url, home.path()).arg("upload").arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("server answered 307 Temporary Redirect (a redirect to a location on 127.0.0.1); uploads never follow redirects"),
        "{}",
        stderr(&output)
    );
    assert_eq!(other_hits.load(Ordering::SeqCst), 0, "the other host was contacted");
}
