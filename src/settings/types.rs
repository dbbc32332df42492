//! The domain's choices: how to authenticate, how a body is sent, how results
//! are shown, when to colour. They live here, below the command line, so that
//! settings, the client, the stores and the output never import the parser;
//! `cli` uses them. clap's `ValueEnum` stays derived on them: its variant docs
//! are the help text of each choice, and its names are how the choices are
//! written in files, flags and output.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard error is a terminal and NO_COLOR is not set
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BodyFormat {
    /// multipart/form-data with one part named `file`
    Multipart,
    /// The image bytes as the body, with the image MIME type as Content-Type
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// name, version and secure URL (tab-separated when not a terminal)
    Table,
    /// The server's response body: same keys, order and values (re-spaced: one document per line when piped)
    Json,
    /// The secure URL alone, one per line
    Url,
    /// One JSON record per input, whatever became of it (see upload --help)
    Records,
}

/// How many uploads run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// Found while the batch runs (`batch::concurrency`).
    Auto,
    Fixed(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum HttpVersion {
    /// The faster for uploads: HTTP/1.1 today (see api::client::http_client)
    #[default]
    Auto,
    /// HTTP/1.1 only
    #[value(name = "1.1")]
    Http1,
    /// HTTP/2 only (over TLS as offered; over plain HTTP with prior knowledge)
    #[value(name = "2")]
    Http2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthKind {
    /// Till username and the MD5 of its password
    Basic,
    /// API client key and secret, exchanged for a token
    Oauth,
}

/// The name a value enum is written as in files and output, e.g. `oauth`.
pub(crate) fn choice_name<E: ValueEnum>(value: &E) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// Every name of a value enum, in declaration order.
pub(crate) fn choice_names<E: ValueEnum>() -> Vec<String> {
    E::value_variants().iter().map(choice_name).collect()
}
