//! `capfile inspect --apply`: what each image would become with the run's
//! transforms (flags, or the policy's entries), made in memory exactly as
//! an upload makes it; nothing is sent and nothing is written. The policy
//! is held to the result.

use serde_json::json;

use crate::image::{self, ImageFacts};
use crate::transform::{self, Settings};

/// What one image would become: the facts of what would be sent and what
/// was done (empty when it is sent as it is), or why it cannot be.
pub(super) fn preview(
    path: &std::path::Path,
    facts: &ImageFacts,
    settings: &Settings,
) -> Result<(ImageFacts, Vec<String>), String> {
    // No more than the header said it holds: a file that grew is refused.
    let bytes = crate::fsio::read_regular(path, facts.bytes).map_err(|e| format!("cannot read it: {e}"))?;
    match transform::apply(&bytes, facts, settings).map_err(|e| e.0)? {
        None => Ok((facts.clone(), Vec::new())),
        Some(made) => {
            let after = image::read(std::io::Cursor::new(&made.bytes), made.bytes.len() as u64)
                .map_err(|e| format!("the result cannot be read back: {e}"))?;
            Ok((after, made.done))
        }
    }
}

/// One line of text: `FILE: before -> after (what was done)`.
pub(super) fn line(label: &str, before: &ImageFacts, after: &ImageFacts, done: &[String]) -> String {
    let brief = |f: &ImageFacts| format!("{} {} {} bytes", f.format, f.size_text(), f.bytes);
    if done.is_empty() {
        format!("{label}: sent as it is ({})\n", brief(before))
    } else {
        format!("{label}: {} -> {} ({})\n", brief(before), brief(after), done.join(", "))
    }
}

/// One JSON object: the file, its facts before and after, what was done.
pub(super) fn json_line(
    label: &str,
    before: &ImageFacts,
    after: &ImageFacts,
    done: &[String],
    violations: &[String],
) -> String {
    json!({
        "file": label,
        "before": before,
        "after": after,
        "transforms": done,
        "violations": violations,
    })
    .to_string()
}
