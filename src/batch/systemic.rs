//! Failing fast when the service is unreachable or wrong for every upload.
//!
//! Some failures say nothing about the file and everything about the setup:
//! nothing listens on the port, the host name does not resolve, its TLS
//! certificate is not trusted, or the upload endpoint itself answers 404.
//! Retrying hundreds of inputs against them only repeats one error for
//! minutes. [`FailFast`] watches outcomes and says stop after a few such
//! failures with no success in between; the caller then marks the remaining
//! inputs `not_attempted` and prints one grouped error with a hint.
//!
//! A success resets the count (the service works; the failures were passing).
//! An ordinary failure (a 5xx, a timeout, a file the server refused) neither
//! counts nor resets: it says nothing either way about the setup.
//!
//! The classification is this module's own type, so the HTTP client maps its
//! errors to it and nothing here depends on the client library.

use std::borrow::Cow;
use std::fmt;

use crate::exit::{ErrorKind, Failure};

/// Consecutive systemic failures that stop a batch by default.
pub(crate) const DEFAULT_THRESHOLD: usize = 3;

/// A failure that no input can get past.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SystemicKind {
    /// The TCP connection was refused: `target` is `host:port`.
    ConnectionRefused,
    /// The host name did not resolve: `target` is the host.
    DnsFailure,
    /// The server's certificate was not accepted: `target` is the host.
    TlsVerification,
    /// The upload endpoint's path itself answered 404 (not a 404 about one
    /// file): `target` is the URL without query.
    EndpointNotFound,
    /// The proxy from the environment failed or refused: `target` names it
    /// and its variable.
    Proxy,
    /// No TLS handshake is possible (an old TLS version only, plain HTTP on
    /// the port): `target` is the host.
    TlsHandshake,
}

/// How the client classifies one failed upload for fail-fast purposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// A failure that may be this input's own, or passing.
    Ordinary,
    /// A failure of the setup: see [`SystemicKind`] for what `target` holds.
    Systemic { kind: SystemicKind, target: String },
}

impl FailureClass {
    pub(crate) fn systemic(kind: SystemicKind, target: impl Into<String>) -> Self {
        FailureClass::Systemic {
            kind,
            target: target.into(),
        }
    }
}

/// Why a batch stopped early: `count` failed attempts in a row, the commonest of
/// `kind` at `target`. It displays as the one-line grouped message, and is
/// reported as an error (a [`Failure`]) with [`Stop::hint`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stop {
    pub kind: SystemicKind,
    /// What failed, as [`SystemicKind`] says for each kind.
    pub target: String,
    /// The systemic failures in a row that stopped the batch.
    pub count: usize,
}

impl Stop {
    /// What to check, naming the target.
    pub(crate) fn hint(&self) -> String {
        let target = &self.target;
        match self.kind {
            SystemicKind::ConnectionRefused => {
                format!("nothing listens on {target} - is the service running, is the base URL right?")
            }
            SystemicKind::DnsFailure => {
                format!("is the host name {target} in the base URL right, and is the network (or its DNS) up?")
            }
            SystemicKind::TlsVerification => format!(
                "is the base URL right? If {target} is the right host, its certificate is not trusted by this machine \
                 (an intercepting proxy needs its CA certificate installed in the system's trust store)"
            ),
            SystemicKind::EndpointNotFound => {
                "is the base URL right? It should be the cluster's API host (scheme://host[:port]) with no path"
                    .to_string()
            }
            SystemicKind::TlsHandshake => {
                format!("is the base URL right? {target} does not speak TLS 1.2 or 1.3 on that port")
            }
            SystemicKind::Proxy => {
                format!("check the proxy {target}, or unset its variable (or list the host in NO_PROXY) to go direct")
            }
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Attempts, not uploads: one upload's retries count too, so a batch
        // of one stops the same way. What was not attempted, the summary says.
        let Stop { kind, target, count } = self;
        write!(f, "stopped after {count} failed attempts in a row: ")?;
        match kind {
            SystemicKind::ConnectionRefused => write!(f, "connection refused by {target}"),
            SystemicKind::DnsFailure => write!(f, "cannot resolve the host name {target}"),
            SystemicKind::TlsVerification => write!(f, "the TLS certificate of {target} was not accepted"),
            SystemicKind::EndpointNotFound => write!(f, "the upload endpoint {target} answered 404"),
            SystemicKind::Proxy => write!(f, "the proxy {target} failed"),
            SystemicKind::TlsHandshake => write!(f, "no TLS handshake with {target}"),
        }
    }
}

impl std::error::Error for Stop {}

/// Reported as an error: exit 1, the service failed, not the input.
impl Failure for Stop {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Failure
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(Stop::hint(self)))
    }
}

/// What to do after an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Continue,
    /// Start nothing more; the remaining inputs are `not_attempted`.
    Stop(Stop),
}

/// Counts systemic failures since the last success.
#[derive(Debug)]
pub(crate) struct FailFast {
    threshold: usize,
    /// The systemic failures since the last success, grouped by kind and
    /// target, in order of first appearance (a handful of entries at most).
    streak: Vec<(SystemicKind, String, usize)>,
    stopped: Option<Stop>,
}

impl FailFast {
    /// Stops after `threshold` (at least one) systemic failures in a row.
    pub(crate) fn new(threshold: usize) -> Self {
        FailFast {
            threshold: threshold.max(1),
            streak: Vec::new(),
            stopped: None,
        }
    }

    /// An input was uploaded: the service works.
    pub(crate) fn success(&mut self) {
        if self.stopped.is_none() {
            self.streak.clear();
        }
    }

    /// An input failed; says whether to stop. Once stopped, it stays stopped
    /// and every later call returns the same verdict.
    pub(crate) fn failure(&mut self, class: &FailureClass) -> Verdict {
        if let Some(stop) = &self.stopped {
            return Verdict::Stop(stop.clone());
        }
        let FailureClass::Systemic { kind, target } = class else {
            return Verdict::Continue;
        };
        match self.streak.iter_mut().find(|(k, t, _)| k == kind && t == target) {
            Some((_, _, count)) => *count += 1,
            None => self.streak.push((*kind, target.clone(), 1)),
        }
        let total: usize = self.streak.iter().map(|(_, _, n)| n).sum();
        if total < self.threshold {
            return Verdict::Continue;
        }
        // Name the commonest cause; the earliest one on a tie.
        let mut commonest = &self.streak[0];
        for entry in &self.streak[1..] {
            if entry.2 > commonest.2 {
                commonest = entry;
            }
        }
        let stop = describe(commonest.0, &commonest.1, total);
        self.stopped = Some(stop.clone());
        Verdict::Stop(stop)
    }

    /// Why the batch stopped, once it has.
    pub(crate) fn stopped(&self) -> Option<&Stop> {
        self.stopped.as_ref()
    }
}

impl Default for FailFast {
    fn default() -> Self {
        FailFast::new(DEFAULT_THRESHOLD)
    }
}

/// The stop for `count` failures of `kind` at `target`.
pub(crate) fn describe(kind: SystemicKind, target: &str, count: usize) -> Stop {
    Stop {
        kind,
        target: target.to_string(),
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> FailureClass {
        FailureClass::systemic(SystemicKind::ConnectionRefused, "127.0.0.1:9")
    }

    #[test]
    fn three_systemic_failures_in_a_row_stop_with_one_grouped_message() {
        let mut f = FailFast::default();
        assert_eq!(f.failure(&refused()), Verdict::Continue);
        assert_eq!(f.failure(&refused()), Verdict::Continue);
        let Verdict::Stop(stop) = f.failure(&refused()) else {
            panic!("the third one stops")
        };
        assert_eq!(
            stop.to_string(),
            "stopped after 3 failed attempts in a row: connection refused by 127.0.0.1:9"
        );
        assert_eq!(
            stop.hint(),
            "nothing listens on 127.0.0.1:9 - is the service running, is the base URL right?"
        );
        let err: &dyn Failure = &stop;
        assert_eq!(err.kind(), ErrorKind::Failure);
        assert_eq!(err.hint().as_deref(), Some(stop.hint().as_str()));
        // Later results (uploads already in flight) keep the verdict.
        assert_eq!(f.failure(&FailureClass::Ordinary), Verdict::Stop(stop.clone()));
        f.success();
        assert_eq!(f.stopped(), Some(&stop));
    }

    #[test]
    fn a_success_in_between_resets_the_count() {
        let mut f = FailFast::new(3);
        f.failure(&refused());
        f.failure(&refused());
        f.success();
        assert_eq!(f.failure(&refused()), Verdict::Continue);
        assert_eq!(f.failure(&refused()), Verdict::Continue);
        assert!(matches!(f.failure(&refused()), Verdict::Stop(_)));
    }

    #[test]
    fn ordinary_failures_neither_count_nor_reset() {
        let mut f = FailFast::new(3);
        for _ in 0..100 {
            assert_eq!(f.failure(&FailureClass::Ordinary), Verdict::Continue);
        }
        f.failure(&refused());
        f.failure(&FailureClass::Ordinary);
        f.failure(&refused());
        f.failure(&FailureClass::Ordinary);
        assert!(matches!(f.failure(&refused()), Verdict::Stop(_)));
    }

    #[test]
    fn mixed_systemic_failures_stop_naming_the_commonest() {
        let mut f = FailFast::new(3);
        f.failure(&FailureClass::systemic(SystemicKind::TlsVerification, "h.example"));
        f.failure(&FailureClass::systemic(SystemicKind::DnsFailure, "h.example"));
        let Verdict::Stop(stop) = f.failure(&FailureClass::systemic(SystemicKind::DnsFailure, "h.example")) else {
            panic!("three systemic failures stop")
        };
        assert_eq!(stop.kind, SystemicKind::DnsFailure);
        assert!(
            stop.to_string().contains("cannot resolve the host name h.example"),
            "{stop}"
        );
    }

    #[test]
    fn every_kind_has_a_message_and_a_hint_naming_the_target() {
        for kind in [
            SystemicKind::ConnectionRefused,
            SystemicKind::DnsFailure,
            SystemicKind::TlsVerification,
            SystemicKind::EndpointNotFound,
        ] {
            let stop = describe(kind, "TARGET", 3);
            let (message, hint) = (stop.to_string(), stop.hint());
            assert!(message.contains("TARGET"), "{kind:?}: {message}");
            assert!(hint.contains("base URL"), "{kind:?}: {hint}");
            assert!(!message.contains('\n') && !hint.contains('\n'));
            let err: &dyn Failure = &stop;
            assert_eq!(err.exit().code(), 1, "{kind:?}");
            assert_eq!((err.to_string(), err.hint().as_deref()), (message, Some(hint.as_str())));
        }
    }

    #[test]
    fn a_tie_names_the_cause_seen_first() {
        let tls = FailureClass::systemic(SystemicKind::TlsVerification, "a.example");
        let dns = FailureClass::systemic(SystemicKind::DnsFailure, "b.example");
        let refused_elsewhere = FailureClass::systemic(SystemicKind::ConnectionRefused, "c.example:443");
        // One each: the first wins.
        let mut f = FailFast::new(3);
        f.failure(&tls);
        f.failure(&dns);
        let Verdict::Stop(stop) = f.failure(&refused_elsewhere) else {
            panic!("three systemic failures stop")
        };
        assert_eq!(
            (stop.kind, stop.target.as_str()),
            (SystemicKind::TlsVerification, "a.example")
        );
        // Two each, the second cause reaching two first: still the first seen.
        let mut f = FailFast::new(4);
        f.failure(&dns);
        f.failure(&tls);
        f.failure(&tls);
        let Verdict::Stop(stop) = f.failure(&dns) else {
            panic!("four systemic failures stop")
        };
        assert_eq!((stop.kind, stop.count), (SystemicKind::DnsFailure, 4));
        // The same kind at another target is another cause.
        let mut f = FailFast::new(3);
        f.failure(&FailureClass::systemic(SystemicKind::DnsFailure, "x.example"));
        f.failure(&dns);
        let Verdict::Stop(stop) = f.failure(&dns) else {
            panic!("three systemic failures stop")
        };
        assert_eq!(stop.target, "b.example");
    }

    #[test]
    fn a_threshold_of_zero_is_one() {
        let mut f = FailFast::new(0);
        assert!(matches!(f.failure(&refused()), Verdict::Stop(_)));
    }
}
