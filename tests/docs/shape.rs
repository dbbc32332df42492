//! The code keeps its shape: no function outside tests is longer than
//! `MAX_LINES` lines (a `Display::fmt` that is one `match` over an error's
//! variants is the exception: it is a table, read one arm at a time).
//!
//! A small lexer is enough to find functions: it skips comments, strings,
//! raw strings and character literals, so a brace inside them does not count,
//! and it skips `#[cfg(test)]` items and test files.

use std::path::Path;

use crate::tools::repo;

const MAX_LINES: usize = 80;

/// The source with comments, strings and character literals blanked out
/// (newlines kept, so line numbers stay right).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('/'), Some('*')) => depth += 1,
                    (Some('*'), Some('/')) => depth -= 1,
                    (None, _) => break,
                    _ => {}
                }
                if depth == 0 {
                    out.push_str("  ");
                    i += 2;
                    break;
                }
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // r"..." or r#"..."#: no escapes, ends at the same number of #.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &c in &chars[i..j.min(chars.len())] {
                blank(&mut out, c);
            }
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            for &c in &chars[i..(j + 1).min(chars.len())] {
                blank(&mut out, c);
            }
            i = j + 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), else a lifetime.
            let end = match next {
                Some('\\') => (i + 2..chars.len()).find(|&j| chars[j] == '\''),
                Some(_) if chars.get(i + 2) == Some(&'\'') => Some(i + 2),
                _ => None,
            };
            match end {
                Some(end) => {
                    for &c in &chars[i..=end] {
                        blank(&mut out, c);
                    }
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

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

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" {
                walk(&path, files);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            files.push(path);
        }
    }
}

#[test]
fn no_function_outside_tests_is_longer_than_80_lines() {
    let mut files = Vec::new();
    walk(&repo().join("src"), &mut files);
    files.sort();
    let mut long = Vec::new();
    for file in files {
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
