//! `-vv` and `-vvv`: the printer tells each HTTP exchange the client hands it
//! (already redacted by `api::trace`), one line each, with headers and the
//! start of an error body at `-vvv`.

use crate::api::{Exchange, Trace, TraceLevel};

use super::{Printer, Verbosity, human_bytes};

impl Trace for Printer {
    fn level(&self) -> TraceLevel {
        match self.verbosity() {
            Verbosity::Verbose(v) if v >= 3 => TraceLevel::Headers,
            Verbosity::Verbose(2) => TraceLevel::Exchanges,
            _ => TraceLevel::Off,
        }
    }

    fn exchange(&self, exchange: &Exchange) {
        self.detail(2, &exchange_line(exchange));
        for (name, value) in &exchange.request_headers {
            self.detail(3, &format!("http:   > {name}: {value}"));
        }
        for (name, value) in &exchange.response_headers {
            self.detail(3, &format!("http:   < {name}: {value}"));
        }
        if let Some(body) = &exchange.error_body {
            // `detail` escapes control characters: the body stays on one line.
            self.detail(3, &format!("http:   < body: {body}"));
        }
    }
}

/// `http: POST URL -> 503 Service Unavailable over HTTP/2 in 12 ms, sent
/// 6.6 KiB, request id ..., attempt 1`.
fn exchange_line(exchange: &Exchange) -> String {
    let answer = match &exchange.answer {
        Ok(status) => match status.canonical_reason() {
            Some(_) => status.to_string(),
            None => status.as_str().to_string(),
        },
        Err(why) => format!("no answer ({why})"),
    };
    let version = exchange.http_version.map(|v| format!(" over {v}")).unwrap_or_default();
    let request_id = exchange
        .request_id
        .as_deref()
        .map(|id| format!(", request id {id}"))
        .unwrap_or_default();
    format!(
        "http: {} {} -> {answer}{version} in {} ms, sent {}{request_id}, attempt {}",
        exchange.method,
        exchange.url,
        exchange.elapsed.as_millis(),
        human_bytes(exchange.sent),
        exchange.attempt
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::StatusCode;

    use super::super::Buffer;
    use super::*;

    fn exchange() -> Exchange {
        Exchange {
            method: "POST",
            url: "http://h/api_gateway/file-service/rewards/a.png".into(),
            attempt: 2,
            answer: Ok(StatusCode::SERVICE_UNAVAILABLE),
            elapsed: Duration::from_millis(12),
            sent: 2048,
            request_id: Some("r-1".into()),
            request_headers: vec![("authorization".into(), "REDACTED".into())],
            response_headers: vec![("x-cap-requestid".into(), "r-1".into())],
            error_body: Some("{\"errors\":[]}\nmore".into()),
            http_version: None,
        }
    }

    fn traced(verbosity: Verbosity) -> String {
        let err = Buffer::memory(false);
        let printer = Printer::with_buffers(verbosity, false, Buffer::memory(false), err.clone());
        if printer.level() > TraceLevel::Off {
            printer.exchange(&exchange());
        }
        err.contents()
    }

    #[test]
    fn vv_is_one_line_per_exchange_and_vvv_adds_headers_and_the_body() {
        assert_eq!(traced(Verbosity::Verbose(1)), "");
        assert_eq!(
            traced(Verbosity::Verbose(2)),
            "http: POST http://h/api_gateway/file-service/rewards/a.png -> 503 Service Unavailable in 12 ms, \
             sent 2.0 KiB, request id r-1, attempt 2\n"
        );
        let full = traced(Verbosity::Verbose(3));
        assert!(
            full.ends_with(
                "http:   > authorization: REDACTED\nhttp:   < x-cap-requestid: r-1\n\
                 http:   < body: {\"errors\":[]}\\nmore\n"
            ),
            "{full}"
        );
    }
}
