use super::*;
use crate::exit::Failure;

/// The smallest whole GIF and PNG (1 x 1): inputs now have their headers
/// read, so a bare signature is a truncated image.
const GIF: &[u8] = b"GIF89a\x01\0\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
const GIF87: &[u8] = b"GIF87a\x01\0\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\0\0\0\0\
                     \0\0\0\0IDAT\0\0\0\0\0\0\0\0IEND\0\0\0\0";

#[test]
fn lists_split_on_newlines_or_nuls() {
    let paths = |v: &[&str]| v.iter().map(PathBuf::from).collect::<Vec<_>>();
    let parse_list = |bytes: &[u8], nul| {
        let mut found = vec![PathBuf::from("given.png")];
        read_list(bytes, nul, &mut found).unwrap();
        assert_eq!(found.remove(0), PathBuf::from("given.png"), "added after what is given");
        found
    };
    assert_eq!(
        parse_list(b"a.png\r\nb c.png\n\nd.png", false),
        paths(&["a.png", "b c.png", "d.png"])
    );
    assert_eq!(parse_list(b"a\nb.png\0c.png\0", true), paths(&["a\nb.png", "c.png"]));
    assert!(parse_list(b"", false).is_empty());
    // Comments, as rsync and rclone read a list; not in a NUL-separated one.
    assert_eq!(
        parse_list(
            b"# banners for spring\na.png\n;old\r\n#\n./#b.png\n c.png #not a comment\n",
            false
        ),
        paths(&["a.png", "./#b.png", " c.png #not a comment"])
    );
    assert_eq!(parse_list(b"#a.png\0;b.png\0", true), paths(&["#a.png", ";b.png"]));
}

#[test]
fn names_from_paths_join_components() {
    assert_eq!(name_from_path(Path::new("en/banner.png")), "en_banner.png");
    assert_eq!(name_from_path(Path::new("./a/../b/c.png")), "a_b_c.png");
    assert_eq!(name_from_path(Path::new("/abs/x.png")), "abs_x.png");
}

#[test]
fn remote_names_are_checked() {
    assert!(RemoteName::parse("a b#?%é.png").is_ok());
    for bad in ["", ".", "..", "a/b.png", "a\\b.png", "a\nb.png", "tab\t.png"] {
        assert!(RemoteName::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn url_segment_encodes_reserved_and_non_ascii() {
    let name = RemoteName::parse("my image #1?%é.png").unwrap();
    assert_eq!(name.url_segment(), "my%20image%20%231%3F%25%C3%A9.png");
    assert_eq!(RemoteName::parse("a-b_c~d.png").unwrap().url_segment(), "a-b_c~d.png");
}

#[test]
fn a_batch_reports_every_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.png");
    let files = vec![text, empty, missing, dir.path().to_path_buf()];
    let errors = collect(files, &Options::default(), &mut io::empty()).unwrap_err();
    let messages: Vec<String> = errors.iter().map(|e| e.message()).collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages[0].ends_with("notes.txt: not an image (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, AVIF, HEIC or SVG)"));
    assert!(messages[1].ends_with("empty.png: file is empty"));
    assert!(messages[2].ends_with("missing.png: no such file or directory"));
    assert!(messages[3].ends_with(": is a directory"));
    assert!(matches!(errors[0], InputError::NotAnImage { .. }));
    assert!(matches!(errors[1], InputError::EmptyFile { .. }));
    assert!(matches!(&errors[2], InputError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound));
    assert!(matches!(errors[3], InputError::IsDirectory { .. }));
    assert_eq!(
        errors[3].hint().as_deref(),
        Some("use -r to upload the images inside it")
    );
    assert!(errors.iter().all(|e| e.exit() == crate::exit::Exit::Usage));
}

#[test]
fn stdin_is_spooled_and_needs_a_name() {
    let png = PNG.to_vec();
    let without = collect(vec![PathBuf::from("-")], &Options::default(), &mut &png[..]).unwrap_err();
    assert!(without[0].message().contains("needs --name"));
    assert!(matches!(without[0], InputError::StdinNeedsName));
    let options = Options {
        name: Some("in.png".into()),
        ..Options::default()
    };
    let inputs: Vec<Input> = collect(vec![PathBuf::from("-")], &options, &mut &png[..])
        .unwrap()
        .iter()
        .collect();
    assert_eq!(inputs[0].size, png.len() as u64);
    assert_eq!(inputs[0].mime, "image/png");
    assert_eq!(std::fs::read(inputs[0].body_path().unwrap()).unwrap(), png);
    assert_eq!(inputs[0].label(), "in.png", "reported under its --name");
}

#[test]
fn a_walked_input_takes_its_entry_and_name() {
    // A batch holds every checked input at once (issue 11 item 10): a file
    // of a walked directory costs 16 bytes and its name (ended by a NUL),
    // nothing per file for its directory, and no listing is kept.
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for i in 0..500 {
            std::fs::write(dir.path().join(sub).join(format!("{sub}-{i:04}.gif")), GIF).unwrap();
        }
    }
    let options = Options {
        recursive: true,
        ..Options::default()
    };
    let inputs = collect(vec![dir.path().to_path_buf()], &options, &mut io::empty()).unwrap();
    assert_eq!(inputs.len(), 1000);
    let names = 1000 * ("a-0000.gif".len() + 1);
    assert!(inputs.held_bytes() <= names + 1000 * 16 + 64, "{}", inputs.held_bytes());
    let last = inputs.get(999).unwrap();
    assert!(matches!(last.source, Source::InDir(_)));
    assert_eq!(
        last.body_path().as_deref(),
        Some(dir.path().join("b").join("b-0499.gif").as_path())
    );
}

#[test]
fn labels_name_the_input_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a b.gif");
    std::fs::write(&file, GIF).unwrap();
    let inputs: Vec<Input> = collect(vec![file.clone()], &Options::default(), &mut io::empty())
        .unwrap()
        .iter()
        .collect();
    assert_eq!(inputs[0].label(), crate::output::quote_path(&file.to_string_lossy()));
    let options = Options {
        placeholder: true,
        name: Some("p.png".into()),
        ..Options::default()
    };
    let inputs: Vec<Input> = collect(vec![PathBuf::from("dir/x")], &options, &mut io::empty())
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        (inputs[0].label().as_str(), inputs[0].remote.as_str()),
        ("dir/x", "p.png")
    );
}

#[test]
fn duplicate_remote_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("x.gif"), GIF).unwrap();
    }
    let options = Options {
        recursive: true,
        ..Options::default()
    };
    let errors = collect(vec![dir.path().to_path_buf()], &options, &mut io::empty()).unwrap_err();
    assert!(errors[0].message().contains("remote name `x.gif` is also used by"));
    assert!(matches!(&errors[0], InputError::DuplicateName { remote, .. } if remote == "x.gif"));
}

#[test]
fn recursion_is_sorted_and_skips_non_images() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("b.gif"), GIF).unwrap();
    std::fs::write(dir.path().join("a.gif"), GIF87).unwrap();
    std::fs::write(dir.path().join("readme.txt"), b"text").unwrap();
    std::fs::write(dir.path().join("sub").join("c.gif"), GIF).unwrap();
    let options = Options {
        recursive: true,
        ..Options::default()
    };
    let inputs: Vec<Input> = collect(vec![dir.path().to_path_buf()], &options, &mut io::empty())
        .unwrap()
        .iter()
        .collect();
    let names: Vec<&str> = inputs.iter().map(|i| i.remote.as_str()).collect();
    assert_eq!(names, ["a.gif", "b.gif", "c.gif"]);
    // Named after their files, they keep only their directory, shared.
    let c = dir.path().join("sub").join("c.gif");
    assert!(matches!(inputs[2].source, Source::InDir(_)));
    assert_eq!(inputs[2].body_path().as_deref(), Some(c.as_path()));
    assert_eq!(inputs[2].label(), crate::output::quote_path(&c.to_string_lossy()));
    let options = Options {
        name_from_path: true,
        ..options
    };
    let inputs: Vec<Input> = collect(vec![dir.path().to_path_buf()], &options, &mut io::empty())
        .unwrap()
        .iter()
        .collect();
    assert_eq!(inputs[2].remote.as_str(), "sub_c.gif");
    assert_eq!(inputs[2].body_path().as_deref(), Some(c.as_path()));
}

#[test]
fn a_walk_reports_the_problem_a_sorted_walk_meets_first() {
    // Files are added as their directory lists them; the problem reported is
    // still the first in sorted order, whatever the listing order.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    for name in ["z\tz.gif", "m/k\tk.gif", "q\tq.gif", "b.gif", "n\tn.gif"] {
        std::fs::write(dir.path().join(name), GIF).unwrap();
    }
    let options = Options {
        recursive: true,
        ..Options::default()
    };
    let errors = collect(vec![dir.path().to_path_buf()], &options, &mut io::empty()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].message();
    assert!(message.contains("k\\tk.gif"), "{message}");
}
