//! The source tree keeps one module-file style: a module with submodules is
//! `name/mod.rs`, never `name.rs` beside a `name/` folder.

use std::path::Path;

use crate::tools::repo;

fn walk(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "mod.rs")
            && path.with_extension("").is_dir()
        {
            found.push(path.strip_prefix(repo()).unwrap().display().to_string());
        }
    }
}

#[test]
fn modules_with_submodules_are_folders_with_mod_rs() {
    let mut found = Vec::new();
    walk(&repo().join("src"), &mut found);
    assert!(
        found.is_empty(),
        "move these to NAME/mod.rs (one module-file style): {found:?}"
    );
}
