use super::*;

fn lines(input: &[u8], separator: u8, limits: Limits) -> Result<Vec<(String, bool)>, io::Error> {
    let mut reader = Lines::new(io::BufReader::with_capacity(7, input), separator, limits);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    while let Some(complete) = reader.next_into(&mut buf)? {
        out.push((String::from_utf8_lossy(&buf).into_owned(), complete));
    }
    Ok(out)
}

const WIDE: Limits = Limits {
    line: 100,
    total: 1000,
    lines: 100,
};

#[test]
fn lines_split_across_buffer_refills() {
    let got = lines(b"first line\n\nthird one here\nlast", b'\n', WIDE).unwrap();
    let want = [
        ("first line", true),
        ("", true),
        ("third one here", true),
        ("last", false),
    ];
    assert_eq!(got, want.map(|(s, c)| (s.to_string(), c)));
    assert_eq!(lines(b"", b'\n', WIDE).unwrap(), []);
    assert_eq!(lines(b"a\0b\0", 0, WIDE).unwrap().len(), 2);
}

#[test]
fn a_long_line_or_too_many_bytes_is_refused() {
    let err = lines(
        b"ok\n0123456789abc\n",
        b'\n',
        Limits {
            line: 10,
            total: 1000,
            lines: 100,
        },
    )
    .unwrap_err();
    assert_eq!(
        ReadError::of(&err),
        Some(&ReadError::LineTooLong { line: 2, limit: 10 })
    );
    assert_eq!(err.to_string(), "line 2 is longer than 10 bytes");
    // Endless empty entries (`/dev/zero` with NUL separators) end at the total.
    let mut zeros = io::BufReader::new(io::repeat(0));
    let mut reader = Lines::new(
        &mut zeros,
        0,
        Limits {
            line: 10,
            total: 1 << 20,
            lines: usize::MAX,
        },
    );
    let mut buf = Vec::new();
    let err = loop {
        match reader.next_into(&mut buf) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("an endless stream ended"),
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    assert_eq!(err.to_string(), "it is larger than 1 MiB");
    let err = lines(
        b"\0\0\0\0",
        0,
        Limits {
            line: 10,
            total: 1000,
            lines: 3,
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "it has more than 3 lines");
    // Endless bytes without a separator end at the line limit.
    let mut reader = Lines::new(
        io::BufReader::new(io::repeat(0)),
        b'\n',
        Limits {
            line: 4096,
            total: u64::MAX,
            lines: usize::MAX,
        },
    );
    let err = reader.next_into(&mut buf).unwrap_err();
    assert!(matches!(
        ReadError::of(&err),
        Some(ReadError::LineTooLong { line: 1, .. })
    ));
}

#[cfg(unix)]
#[test]
fn special_files_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let cases = [
        (Path::new("/dev/zero"), "it is a character device, not a regular file"),
        (Path::new("/dev/null"), "it is a character device, not a regular file"),
        (fifo.as_path(), "it is a FIFO (named pipe), not a regular file"),
        (dir.path(), "it is a directory, not a regular file"),
    ];
    for (path, says) in cases {
        let err = read_regular(path, 10).unwrap_err();
        assert_eq!(err.to_string(), says, "{}", path.display());
        assert!(ReadError::of(&err).is_some());
        assert_eq!(read_head(path, 10).unwrap_err().to_string(), says);
    }
    let file = dir.path().join("big");
    std::fs::write(&file, [b'x'; 11]).unwrap();
    assert_eq!(
        read_regular(&file, 10).unwrap_err().to_string(),
        "it is larger than 10 bytes"
    );
    assert_eq!(read_regular(&file, 11).unwrap().len(), 11);
    assert_eq!(read_head(&file, 4).unwrap(), b"xxxx");
}

#[cfg(unix)]
#[test]
fn own_files_are_not_opened_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    std::fs::write(&target, "keep").unwrap();
    let link = dir.path().join("x.lock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    let err = open_own(&link, &mut options).unwrap_err();
    assert_eq!(ReadError::of(&err), Some(&ReadError::Symlink));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    let own = dir.path().join("y.lock");
    open_own(&own, &mut options).unwrap();
    assert!(own.is_file());
}

#[test]
fn sizes_read_in_whole_units() {
    assert_eq!(size_text(1 << 20), "1 MiB");
    assert_eq!(size_text(64 << 10), "64 KiB");
    assert_eq!(size_text(4 << 30), "4 GiB");
    assert_eq!(size_text(1000), "1000 bytes");
}
