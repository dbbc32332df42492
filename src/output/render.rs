//! Text renderers for results and messages: the upload table (aligned or
//! tab-separated), the server's JSON (compact or indented, tokens kept), and the
//! escaping that keeps anything received from a server or a file name from
//! driving the terminal.

/// One row of the upload table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    pub name: String,
    pub version: String,
    pub secure_url: String,
}

/// The table form: aligned with a header on a terminal, tab-separated otherwise.
/// On a terminal the NAME column is capped so the URL fits the width of
/// standard output (see [`render_table_in`]).
pub(crate) fn render_table(rows: &[Row], terminal: bool) -> String {
    let width = if terminal {
        terminal_columns(Stream::Stdout)
    } else {
        None
    };
    render_table_in(rows, terminal, width.map(usize::from))
}

/// The shortest NAME column the cap leaves.
const MIN_NAME_COLUMN: usize = 16;

/// [`render_table`] for a terminal `width` columns wide (`None`: unknown, no
/// cap). Columns are padded by display width (a CJK character or an emoji
/// takes two columns, an accent none). A name is shortened in the middle with
/// `…` only when that buys the longest URL a line: when the URL wraps anyway,
/// the name stays whole. A URL is never shortened. Without a terminal nothing
/// is shortened: scripts get every name whole.
pub(super) fn render_table_in(rows: &[Row], terminal: bool, width: Option<usize>) -> String {
    let mut out = String::new();
    if !terminal {
        for row in rows {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                escape_control(&row.name),
                escape_control(&row.version),
                escape_control(&row.secure_url)
            ));
        }
        return out;
    }
    let header = Row {
        name: "NAME".into(),
        version: "VERSION".into(),
        secure_url: "SECURE URL".into(),
    };
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            name: escape_control(&r.name).into_owned(),
            version: escape_control(&r.version).into_owned(),
            secure_url: escape_control(&r.secure_url).into_owned(),
        })
        .collect();
    let widest = |column: fn(&Row) -> &str| {
        rows.iter()
            .chain([&header])
            .map(|r| display_width(column(r)))
            .max()
            .unwrap_or(0)
    };
    let longest_name = widest(|r| &r.name);
    let version_width = widest(|r| &r.version);
    let longest_url = widest(|r| &r.secure_url);
    let name_width = match width {
        Some(width) => name_column(longest_name, version_width + longest_url + 4, width),
        None => longest_name,
    };
    for row in std::iter::once(&header).chain(&rows) {
        let name = elide_middle(&row.name, name_width);
        out.push_str(&name);
        out.push_str(&" ".repeat(name_width.saturating_sub(display_width(&name)) + 2));
        out.push_str(&row.version);
        out.push_str(&" ".repeat(version_width.saturating_sub(display_width(&row.version)) + 2));
        out.push_str(&row.secure_url);
        out.push('\n');
    }
    out
}

/// The NAME column's width: the longest name, unless cutting names (to no
/// less than [`MIN_NAME_COLUMN`]) makes the widest row take fewer terminal
/// lines; then the widest cut that does.
fn name_column(longest_name: usize, rest: usize, width: usize) -> usize {
    let width = width.max(1);
    let lines = |name: usize| (name + rest).div_ceil(width);
    let full = lines(longest_name);
    if full <= 1 && longest_name + rest <= width {
        return longest_name;
    }
    // The widest name that fits in one line fewer.
    let target = (full - 1) * width;
    match target.checked_sub(rest) {
        Some(cut) if cut >= MIN_NAME_COLUMN && cut < longest_name => cut,
        _ => longest_name,
    }
}

/// Columns `text` takes on a terminal.
pub(super) fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` in at most `max` columns: a longer one keeps its start and end
/// (the extension) around a `…`, cut between characters by display width.
pub(super) fn elide_middle(text: &str, max: usize) -> String {
    if display_width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let char_width = |c: char| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
    let tail_room = (max - 1) / 2;
    let head_room = max - 1 - tail_room;
    let mut head = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + char_width(c) > head_room {
            break;
        }
        used += char_width(c);
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in text.chars().rev() {
        if used + char_width(c) > tail_room {
            break;
        }
        used += char_width(c);
        tail.push(c);
    }
    let tail: String = tail.into_iter().rev().collect();
    format!("{head}…{tail}")
}

/// Which of the process's output streams a terminal query is about.
#[derive(Clone, Copy, Debug)]
pub(super) enum Stream {
    Stdout,
    Stderr,
}

/// The width of the terminal on `stream`, when it is one.
pub(super) fn terminal_columns(stream: Stream) -> Option<u16> {
    terminal_size(stream).map(|(columns, _)| columns)
}

/// The (columns, rows) of the terminal on `stream`, when it is one; the
/// `terminal_size` crate (already a dependency of clap) asks the OS, on
/// Windows too.
pub(super) fn terminal_size(stream: Stream) -> Option<(u16, u16)> {
    let size = match stream {
        Stream::Stdout => terminal_size::terminal_size_of(std::io::stdout()),
        Stream::Stderr => terminal_size::terminal_size_of(std::io::stderr()),
    };
    let (terminal_size::Width(columns), terminal_size::Height(rows)) = size?;
    (columns > 0 && rows > 0).then_some((columns, rows))
}

/// The server's JSON with the whitespace outside strings removed, so it fits on
/// one line. Tokens are copied byte for byte: no key is reordered and no number
/// reformatted, which re-serialising through a JSON value could do.
pub(crate) fn json_compact(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut strings = StringTracker::default();
    for c in text.chars() {
        if strings.step(c) || !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Follows JSON text character by character to tell string literals, whose
/// every character counts, from the structure between them.
#[derive(Default)]
struct StringTracker {
    in_string: bool,
    escaped: bool,
}

impl StringTracker {
    /// Whether `c`, the next character, belongs to a string (quotes included).
    fn step(&mut self, c: char) -> bool {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.in_string = false;
            }
            true
        } else {
            self.in_string = c == '"';
            self.in_string
        }
    }
}

/// The server's JSON indented by two spaces for reading on a terminal; like
/// `json_compact`, it keeps the same keys, order and values; only the whitespace
/// outside strings differs from what the server sent.
pub(crate) fn json_pretty(raw: &[u8]) -> String {
    let compact = json_compact(raw);
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut strings = StringTracker::default();
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if strings.step(c) {
            // JSON strings may hold DEL and the C1 controls raw (U+009B is a
            // one-character CSI to some terminals), and invisible or bidi
            // characters: on a terminal they are written as the equivalent
            // \u escape.
            if needs_escape(c) {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

/// Text from outside capfile (a server, a file name) made safe to print on one
/// line: control characters (C0, DEL, C1) and the Unicode bidirectional
/// overrides are written as visible escapes (`\n`, `\t`, `\r`, `\x1b`,
/// `\u{202e}`), so nothing received can move the cursor, retitle the window,
/// start a new line or reorder what is shown.
pub(crate) fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Control characters, and the characters that change how text around them
/// is ordered or shown while being invisible themselves: the bidirectional
/// marks, embeddings, overrides and isolates (U+061C, U+200E/F,
/// U+202A-U+202E, U+2066-U+2069), zero-width characters (U+200B-U+200D,
/// U+2060-U+2064, U+FEFF, U+180E) and the Unicode line and paragraph
/// separators (U+2028/9, which some terminals and editors break lines at).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// A local path for messages, quoted as coreutils quotes names that hold
/// control characters: `'a'$'\033''b'`, so a file name cannot write escape
/// sequences to the terminal. Ordinary names are shown as they are.
pub(crate) fn quote_path(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::new();
    let mut quoted_run = false;
    for c in text.chars() {
        if needs_escape(c) {
            if quoted_run {
                out.push('\'');
                quoted_run = false;
            }
            match c {
                '\n' => out.push_str("$'\\n'"),
                '\t' => out.push_str("$'\\t'"),
                '\r' => out.push_str("$'\\r'"),
                c if (c as u32) < 0x100 => out.push_str(&format!("$'\\{:03o}'", c as u32)),
                c => out.push_str(&format!("$'\\u{:04x}'", c as u32)),
            }
        } else {
            if !quoted_run {
                out.push('\'');
                quoted_run = true;
            }
            if c == '\'' {
                out.push_str("'\\''");
            } else {
                out.push(c);
            }
        }
    }
    if quoted_run {
        out.push('\'');
    }
    out
}

/// `1 file`, `3 files`: a count with its noun in the right number.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Bytes in the units people read: `51 B`, `1.2 MiB`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape_control("plain.png"), "plain.png");
        assert_eq!(
            escape_control("\x1b]0;title\x07\x1b[31mred\n\t\r\u{9b}\u{7f}"),
            "\\x1b]0;title\\x07\\x1b[31mred\\n\\t\\r\\x9b\\x7f"
        );
        assert_eq!(escape_control("a\u{202e}b"), "a\\u{202e}b");
        for invisible in [
            '\u{061c}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{2066}', '\u{2069}',
            '\u{200e}', '\u{202a}', '\u{2060}',
        ] {
            let text = format!("a{invisible}b");
            assert_eq!(escape_control(&text), format!("a\\u{{{:x}}}b", invisible as u32));
            assert!(!quote_path(&text).contains(invisible), "{invisible:?}");
            let json = format!("{{\"n\":\"a{invisible}b\"}}");
            assert!(!json_pretty(json.as_bytes()).contains(invisible), "{invisible:?}");
        }
        assert_eq!(escape_control("é漢😀"), "é漢😀");
    }

    #[test]
    fn paths_with_control_characters_are_quoted_as_coreutils_does() {
        assert_eq!(quote_path("dir/a b.png"), "dir/a b.png");
        assert_eq!(quote_path("a\x1bb"), "'a'$'\\033''b'");
        assert_eq!(quote_path("\nx'y"), "$'\\n''x'\\''y'");
    }

    #[test]
    fn table_and_tsv_keep_one_line_per_row() {
        let row = Row {
            name: "\x1b]0;pwned\x07a.png".into(),
            version: "1\n2\t3".into(),
            secure_url: "https://s/a".into(),
        };
        for terminal in [false, true] {
            let text = render_table(std::slice::from_ref(&row), terminal);
            assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
            assert_eq!(text.lines().count(), if terminal { 2 } else { 1 }, "{text:?}");
        }
        assert_eq!(
            render_table(&[row], false).matches('\t').count(),
            2,
            "a tab in a value must not add a column"
        );
    }

    #[test]
    fn pretty_json_escapes_raw_c1_controls_in_strings() {
        let raw = "{\"name\":\"a\u{9b}31mb\u{7f}\"}".as_bytes();
        let pretty = json_pretty(raw);
        assert!(pretty.contains("a\\u009b31mb\\u007f"), "{pretty}");
        let reparsed: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        let original: serde_json::Value = serde_json::from_slice(raw).unwrap();
        assert_eq!(reparsed, original);
    }

    fn row(name: &str, version: &str, url: &str) -> Row {
        Row {
            name: name.into(),
            version: version.into(),
            secure_url: url.into(),
        }
    }

    #[test]
    fn wide_characters_are_padded_by_display_width() {
        let rows = [
            row("横幅バナー.png", "1", "u1"),
            row("café.png", "2", "u2"),
            row("e\u{301}clair.png", "3", "u3"),
            row("🎁.png", "10", "u4"),
        ];
        let text = render_table_in(&rows, true, Some(200));
        // Every VERSION starts in the same terminal column.
        let columns: Vec<usize> = text
            .lines()
            .map(|line| {
                let at = line.find(|c: char| c.is_ascii_digit() || c == 'V').unwrap();
                display_width(&line[..at])
            })
            .collect();
        assert!(columns.windows(2).all(|w| w[0] == w[1]), "{columns:?}\n{text}");
        assert_eq!(columns[0], display_width("横幅バナー.png") + 2, "{text}");
    }

    #[test]
    fn a_cut_name_fits_its_column_by_display_width() {
        for max in 1..12 {
            for name in ["横幅バナー画像です.png", "a-very-long-name.png", "🎁🎁🎁🎁🎁🎁.png"] {
                let cut = elide_middle(name, max);
                assert!(display_width(&cut) <= max, "{name} in {max}: {cut}");
                assert!(cut.ends_with("png") || max < 8, "{name} in {max}: {cut}");
            }
        }
    }

    proptest::proptest! {
        /// A name is cut only when the cut makes the widest row take fewer
        /// terminal lines, and never below the minimum column.
        #[test]
        fn names_are_cut_only_to_save_a_line(name in 1usize..120, rest in 10usize..300, width in 20usize..250) {
            let column = name_column(name, rest, width);
            let lines = |n: usize| (n + rest).div_ceil(width);
            if column < name {
                proptest::prop_assert!(lines(column) < lines(name));
                proptest::prop_assert!(column >= MIN_NAME_COLUMN);
            } else {
                proptest::prop_assert_eq!(column, name);
            }
        }
    }

    #[test]
    fn table_for_scripts_is_tab_separated_without_header() {
        let rows = [row("a.png", "1", "http://x/a"), row("b b.png", "12", "http://x/b")];
        assert_eq!(
            render_table(&rows, false),
            "a.png\t1\thttp://x/a\nb b.png\t12\thttp://x/b\n"
        );
    }

    #[test]
    fn table_on_terminal_is_aligned_with_header() {
        let rows = [row("a.png", "1", "u1"), row("longer-name.png", "12", "u2")];
        let text = render_table_in(&rows, true, None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME             VERSION  SECURE URL");
        assert_eq!(lines[1], "a.png            1        u1");
        assert_eq!(lines[2], "longer-name.png  12       u2");
    }

    #[test]
    fn a_narrow_terminal_caps_name_and_never_shortens_a_url() {
        let url = "https://files.example/rewards/a-very-long-name-of-a-spring-banner.png";
        let long = "a-very-long-name-of-a-spring-banner.png";
        let rows = [row(long, "1", url), row("b.png", "12", "https://files.example/b.png")];
        // Wide enough: nothing changes.
        let wide = render_table_in(&rows, true, Some(200));
        assert!(wide.contains(long), "{wide}");
        // 100 columns: the URL (69) stays whole, NAME gets what is left.
        let text = render_table_in(&rows, true, Some(100));
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "{line:?} is wider than 100");
        }
        assert!(text.contains(url), "the URL is whole: {text}");
        assert!(
            text.lines().nth(1).unwrap().starts_with("a-very-lon…anner.png  1 "),
            "{text}"
        );
        // Too narrow for a cut to save the URL a line: the name stays whole.
        let narrow = render_table_in(&rows, true, Some(60));
        assert!(narrow.contains(url), "{narrow}");
        assert!(
            narrow.lines().nth(1).unwrap().starts_with(&format!("{long}  1 ")),
            "{narrow}"
        );
        // Scripts always get the whole name.
        assert!(render_table_in(&rows, false, Some(60)).contains(long));
    }

    #[test]
    fn elision_keeps_start_and_end() {
        assert_eq!(elide_middle("abcdefghij", 10), "abcdefghij");
        assert_eq!(elide_middle("abcdefghij", 5), "ab…ij");
        assert_eq!(elide_middle("abcdefghij", 6), "abc…ij");
        assert_eq!(elide_middle("abc", 1), "…");
        assert_eq!(elide_middle("abc", 0), "");
    }

    #[test]
    fn compact_json_keeps_tokens_and_string_whitespace() {
        let raw = br#"{ "b": 1.50, "a" : "x  y\" }", "n": [ 1e2 , null ] }"#;
        assert_eq!(json_compact(raw), r#"{"b":1.50,"a":"x  y\" }","n":[1e2,null]}"#);
    }

    #[test]
    fn pretty_json_indents_and_keeps_order() {
        let raw = br#"{"z":1,"a":{"k":[]},"s":"{,}"}"#;
        assert_eq!(
            json_pretty(raw),
            "{\n  \"z\": 1,\n  \"a\": {\n    \"k\": []\n  },\n  \"s\": \"{,}\"\n}"
        );
    }

    #[test]
    fn bytes_are_human_readable() {
        assert_eq!(human_bytes(51), "51 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
