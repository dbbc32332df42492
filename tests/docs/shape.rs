//! The code keeps its shape: no function outside tests is longer than
//! `MAX_LINES` lines (a `Display::fmt` that is one `match` over an error's
//! variants is the exception: it is a table, read one arm at a time).
//!
//! Braces are counted in the code alone (`source::code_only`: comments,
//! strings and character literals blanked out), so a brace inside them does
//! not count; `#[cfg(test)]` items and test files are skipped.

use crate::source::{code_only, source_files};
use crate::tools::repo;

const MAX_LINES: usize = 80;

/// The index of the brace that closes the one at `open`.
fn closing(code: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &b) in code.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Each function in `source` (not in a `#[cfg(test)]` item) as its name, first
/// line and number of lines.
fn functions(source: &str) -> Vec<(String, usize, usize)> {
    let code = code_only(source);
    let bytes = code.as_bytes();
    let line_of = |at: usize| bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &code[at..];
        if rest.starts_with("#[cfg(test)]") {
            // Skip the item: to the end of its body, or of its `;`.
            let brace = rest.find('{');
            let semi = rest.find(';');
            at += match (brace, semi) {
                (Some(b), Some(s)) if s < b => s + 1,
                (Some(b), _) => closing(bytes, at + b).map_or(rest.len(), |end| end + 1 - at),
                _ => rest.len(),
            };
            continue;
        }
        let word_start = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if word_start && rest.starts_with("fn ") {
            let name: String = rest[3..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // The body opens at the first `{` before any `;` (a declaration
            // in a trait has none).
            let body = rest.find(['{', ';']).filter(|&k| rest.as_bytes()[k] == b'{');
            if let Some(open) = body
                && let Some(close) = closing(bytes, at + open)
            {
                found.push((name, line_of(at), line_of(close) - line_of(at) + 1));
            }
        }
        at += rest.chars().next().map_or(1, char::len_utf8);
    }
    found
}

#[test]
fn no_function_outside_tests_is_longer_than_80_lines() {
    let mut long = Vec::new();
    for file in source_files(&repo().join("src")) {
        let source = std::fs::read_to_string(&file).unwrap();
        for (name, line, lines) in functions(&source) {
            if lines > MAX_LINES && name != "fmt" {
                let file = file.strip_prefix(repo()).unwrap().display();
                long.push(format!("{file}:{line} fn {name}: {lines} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these into named steps of at most {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_function_finder_skips_what_is_not_code() {
    let source = r###"
fn one() {
    let s = "}}}";
    let c = '}';
    let e = '\'';
    let r = r#"{ "}" "#;
    // }
    /* } /* nested } */ */
    let l: &'static str = "x";
}

#[cfg(test)]
mod tests {
    fn hidden() {}
}

trait T {
    fn declared(&self);
}

impl<'a> Two<'a> {
    fn two(&self) -> &'a str {
        if true { "{" } else { "}" }
    }
}
"###;
    let found = functions(source);
    let names: Vec<(&str, usize, usize)> = found.iter().map(|(n, l, c)| (n.as_str(), *l, *c)).collect();
    assert_eq!(names, [("one", 2, 9), ("two", 22, 3)]);
}
