//! How the source files may refer to each other.
//!
//! The layered modules (settings, credentials, api, inputs, manifest, batch,
//! output) sit below the commands: they return their own error enums, and the
//! top-level `Error` in `src/error/mod.rs` wraps them. So none of their files
//! may name `crate::commands` or `crate::error` (only the leaf `crate::exit`,
//! which holds `Exit`, `ErrorKind` and the `Failure` trait). And no circle of
//! more than two files may run through the `crate::` paths of `src/`: a file's
//! edges go to the files its `crate::a::b` paths resolve to (the longest prefix
//! that is a module file, `a/b.rs` or `a/b/mod.rs`). Test code (files named
//! `tests.rs`, files under a `tests/` folder, and a trailing `#[cfg(test)] mod`
//! block) is left out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::source::{code_only, source_files};
use crate::tools::repo;

/// The modules below the commands, which the rules above bind.
const LAYERED: &[&str] = &[
    "settings",
    "credentials",
    "api",
    "inputs",
    "manifest",
    "batch",
    "output",
];

/// Imports that close a circle of more than two files, each with why it stays.
/// Written `from -> to`, both relative to `src/`.
const ALLOWED_EDGES: &[(&str, &str, &str)] = &[];

/// One `crate::` path of a file: the line it is on and its segments.
struct CratePath {
    line: usize,
    segments: Vec<String>,
}

/// The lines of a file up to its trailing `#[cfg(test)] mod NAME {` block,
/// with comments and literals blanked out (`source::code_only`).
fn code_lines(text: &str) -> Vec<String> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut kept = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let next = lines.get(i + 1).map_or("", |l| l.trim_end());
        if line.trim_end() == "#[cfg(test)]" && next.starts_with("mod ") && next.ends_with('{') {
            break;
        }
        kept.push(line.to_string());
    }
    kept
}

/// Reads a `use` tree after `crate::` (`a::b`, `a::{b, c::d}`, `a::*`) and
/// pushes each full path; returns how many bytes it read.
fn read_tree(text: &[u8], prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut at = 0;
    let mut path = prefix.to_vec();
    loop {
        while at < text.len() && text[at].is_ascii_whitespace() {
            at += 1;
        }
        if at < text.len() && text[at] == b'{' {
            at += 1;
            loop {
                at += read_tree(&text[at..], &path, out);
                while at < text.len() && (text[at].is_ascii_whitespace() || text[at] == b',') {
                    at += 1;
                }
                if at >= text.len() || text[at] == b'}' {
                    return at + 1;
                }
            }
        }
        let start = at;
        while at < text.len() && (text[at].is_ascii_alphanumeric() || text[at] == b'_') {
            at += 1;
        }
        if at > start {
            path.push(String::from_utf8_lossy(&text[start..at]).into_owned());
        }
        if text[at..].starts_with(b"::") {
            at += 2;
            continue;
        }
        if path.len() > prefix.len() {
            out.push(path);
        }
        return at;
    }
}

fn crate_paths(code: &[String]) -> Vec<CratePath> {
    // Joined, so a `use` tree may span lines; each byte knows its line.
    let text = code.join("\n");
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("crate::") {
        let start = from + at;
        let before = bytes.get(start.wrapping_sub(1)).copied().unwrap_or(b' ');
        from = start + "crate::".len();
        if before.is_ascii_alphanumeric() || before == b'_' || before == b'$' {
            continue; // `$crate::` or a longer name
        }
        let line = text[..start].matches('\n').count() + 1;
        let mut paths = Vec::new();
        from += read_tree(&bytes[from..], &[], &mut paths);
        found.extend(paths.into_iter().map(|segments| CratePath { line, segments }));
    }
    found
}

/// The module file a `crate::` path ends in: the longest prefix that is one.
fn resolve(src: &Path, segments: &[String]) -> PathBuf {
    for len in (1..=segments.len()).rev() {
        let dir: PathBuf = segments[..len].iter().collect();
        for candidate in [src.join(&dir).with_extension("rs"), src.join(&dir).join("mod.rs")] {
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    src.join("lib.rs")
}

fn relative(src: &Path, path: &Path) -> String {
    path.strip_prefix(src).unwrap().display().to_string()
}

type Graph = BTreeMap<String, BTreeMap<String, usize>>;

/// Every non-test file of `src/` with the files it refers to (and the first
/// line that does), and every layered file's paths that break the layering.
fn scan() -> (Graph, Vec<String>) {
    let src = repo().join("src");
    let files = source_files(&src);
    let mut graph = Graph::new();
    let mut broken = Vec::new();
    for file in &files {
        let name = relative(&src, file);
        let layered = LAYERED.iter().any(|layer| name.starts_with(&format!("{layer}/")));
        let code = code_lines(&std::fs::read_to_string(file).unwrap());
        let edges = graph.entry(name.clone()).or_default();
        for path in crate_paths(&code) {
            let target = relative(&src, &resolve(&src, &path.segments));
            let first = path.segments.first().map(String::as_str);
            if layered && matches!(first, Some("commands" | "error")) {
                broken.push(format!("src/{name}:{}: crate::{}", path.line, path.segments.join("::")));
            }
            if target != name {
                edges.entry(target).or_insert(path.line);
            }
        }
    }
    for (from, to, _) in ALLOWED_EDGES {
        graph.get_mut(*from).map(|edges| edges.remove(*to));
    }
    (graph, broken)
}

#[test]
fn layered_modules_import_neither_commands_nor_the_top_level_error() {
    let (_, broken) = scan();
    assert!(
        broken.is_empty(),
        "these files of a layered module ({}) refer to crate::commands or crate::error; \
         return the module's own error enum (the top-level Error wraps it), and take \
         Exit/ErrorKind/Failure from crate::exit:\n{}",
        LAYERED.join(", "),
        broken.join("\n")
    );
}

/// What the emulator may use of the client: the namespace rule, so that the
/// emulator takes no namespace capfile would refuse to send (one rule, not
/// two). Everything else it needs is its own: it could be a crate of its own.
const EMULATOR_MAY_USE: &[&str] = &["settings/checks.rs", "settings/mod.rs"];

#[test]
fn the_emulator_uses_nothing_of_the_client_but_the_namespace_rule() {
    let (graph, _) = scan();
    let mut reached = Vec::new();
    for (file, edges) in graph.iter().filter(|(file, _)| file.starts_with("emulator/")) {
        for (target, line) in edges {
            if !target.starts_with("emulator/") && !EMULATOR_MAY_USE.contains(&target.as_str()) {
                reached.push(format!("src/{file}:{line}: {target}"));
            }
        }
    }
    assert!(
        reached.is_empty(),
        "the emulator reaches into the client (keep it self-contained):\n{}",
        reached.join("\n")
    );
}

/// A circle of more than two files through `start`, if there is one: a depth
/// first search over simple paths that stay in `within`.
fn long_circle(graph: &Graph, start: &str, within: &BTreeSet<String>) -> Option<Vec<String>> {
    fn extend(graph: &Graph, path: &mut Vec<String>, within: &BTreeSet<String>, budget: &mut usize) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let last = path.last().unwrap().clone();
        for next in graph[&last].keys() {
            if !within.contains(next) {
                continue;
            }
            if *next == path[0] && path.len() > 2 {
                return true;
            }
            if path.contains(next) {
                continue;
            }
            path.push(next.clone());
            if extend(graph, path, within, budget) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut budget = 200_000;
    extend(graph, &mut path, within, &mut budget).then_some(path)
}

/// The strongly connected components of the graph (Kosaraju).
fn components(graph: &Graph) -> Vec<BTreeSet<String>> {
    fn order(graph: &Graph, node: &str, seen: &mut BTreeSet<String>, out: &mut Vec<String>) {
        if !seen.insert(node.to_string()) {
            return;
        }
        for next in graph.get(node).into_iter().flat_map(|e| e.keys()) {
            order(graph, next, seen, out);
        }
        out.push(node.to_string());
    }
    let mut reverse = Graph::new();
    for (from, edges) in graph {
        reverse.entry(from.clone()).or_default();
        for to in edges.keys() {
            reverse.entry(to.clone()).or_default().insert(from.clone(), 0);
        }
    }
    let (mut seen, mut finished) = (BTreeSet::new(), Vec::new());
    for node in graph.keys() {
        order(graph, node, &mut seen, &mut finished);
    }
    let mut assigned = BTreeSet::new();
    let mut found = Vec::new();
    for node in finished.iter().rev() {
        let mut part = Vec::new();
        let mut stack = vec![node.clone()];
        while let Some(n) = stack.pop() {
            if assigned.insert(n.clone()) {
                stack.extend(reverse[&n].keys().cloned());
                part.push(n);
            }
        }
        if !part.is_empty() {
            found.push(part.into_iter().collect());
        }
    }
    found
}

#[test]
fn no_circle_of_more_than_two_files() {
    let (graph, _) = scan();
    let mut circles = Vec::new();
    for part in components(&graph).into_iter().filter(|part| part.len() > 2) {
        if let Some(circle) = part.iter().find_map(|start| long_circle(&graph, start, &part)) {
            let shown: Vec<String> = circle
                .iter()
                .zip(circle.iter().cycle().skip(1))
                .map(|(from, to)| format!("  src/{from}:{} -> src/{to}", graph[from][to]))
                .collect();
            circles.push(format!(
                "a circle in {} files ({}):\n{}",
                part.len(),
                part.iter().cloned().collect::<Vec<_>>().join(", "),
                shown.join("\n")
            ));
        }
    }
    assert!(
        circles.is_empty(),
        "import circles of more than two files (break one edge, or list it in ALLOWED_EDGES \
         with why):\n{}",
        circles.join("\n\n")
    );
}

#[test]
fn the_scanner_reads_use_trees_and_paths() {
    let code: Vec<String> = [
        "use crate::api::{ApiError, route::{Route, Scheme}};",
        "use crate::exit::*;",
        "    let x = crate::interrupt::exit_code(); // crate::commands::x",
        "macro_rules! m { () => { $crate::nope::x } }",
        "#[cfg(test)]",
        "mod tests {",
        "    use crate::commands::upload;",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let code = code_lines(&code.join("\n"));
    let paths: Vec<(usize, String)> = crate_paths(&code)
        .into_iter()
        .map(|p| (p.line, p.segments.join("::")))
        .collect();
    let expected = [
        (1, "api::ApiError"),
        (1, "api::route::Route"),
        (1, "api::route::Scheme"),
        (2, "exit"),
        (3, "interrupt::exit_code"),
    ];
    let expected: Vec<(usize, String)> = expected.iter().map(|(l, p)| (*l, p.to_string())).collect();
    assert_eq!(paths, expected);
    let src = repo().join("src");
    let target = |p: &str| {
        relative(
            &src,
            &resolve(&src, &p.split("::").map(String::from).collect::<Vec<_>>()),
        )
    };
    assert_eq!(target("api::route::Route"), "api/route.rs");
    assert_eq!(target("api::ApiError"), "api/mod.rs");
    assert_eq!(target("Exit"), "lib.rs");
}

#[test]
fn the_circle_finder_reports_three_files_and_passes_pairs() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph = Graph::new();
        for (from, to) in edges {
            graph.entry(to.to_string()).or_default();
            graph.entry(from.to_string()).or_default().insert(to.to_string(), 1);
        }
        graph
    };
    let long = |graph: &Graph| -> Vec<Vec<String>> {
        components(graph)
            .into_iter()
            .filter(|part| part.len() > 2)
            .filter_map(|part| part.iter().find_map(|start| long_circle(graph, start, &part)))
            .collect()
    };
    // Pairs that import each other, even chained, are no circle of three.
    assert!(long(&graph(&[("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")])).is_empty());
    // a -> b -> c -> a is.
    let found = long(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]));
    assert_eq!(found, vec![vec!["a".to_string(), "b".into(), "c".into()]]);
}
