//! Credentials never follow a redirect to another host: capfile stops at the
//! redirect and says so, and the other host hears nothing.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::any;
use common::{bare_capfile, run, sample, stderr};

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
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
    let other_listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let other_url = format!("http://{}", other_listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(other_listener, other).await });

    let target = format!("{other_url}/api_gateway/file-service/rewards/sample.png");
    let first = Router::new().fallback(any(move || {
        let target = target.clone();
        async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]) }
    }));
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, first).await });

    let home = tempfile::tempdir().unwrap();
    let output = run(bare_capfile(home.path())
        .env("CAPFILE_BASE_URL", &url)
        .env("CAPFILE_USERNAME", "u")
        .env("CAPFILE_PASSWORD", "p")
        .arg("upload")
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("server redirected to"), "{}", stderr(&output));
    assert_eq!(other_hits.load(Ordering::SeqCst), 0, "the other host was contacted");
}
