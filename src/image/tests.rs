//! The readers against real images of every format (tests/fixtures/images,
//! made with ImageMagick, libwebp, libavif, libheif and exiftool), and
//! property tests: arbitrary bytes, and every fixture cut short or with
//! bytes changed, give facts or a `Fault`, never a panic.

use std::io::Cursor;
use std::path::PathBuf;

use proptest::prelude::*;

use super::*;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(name)).unwrap()
}

fn facts(name: &str) -> ImageFacts {
    let bytes = fixture(name);
    let len = bytes.len() as u64;
    read(Cursor::new(bytes), len).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (file, format, size, colour, depth, alpha, frames)
type Row = (&'static str, Format, &'static str, Option<Color>, Option<u8>, bool, u32);

#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("rgb-60x20.png", Format::Png, "60x20", Some(Color::Rgb), Some(16), false, 1),
    ("badge-90x90.png", Format::Png, "90x90", Some(Color::Rgb), Some(8), true, 1),
    ("grey-30x30.png", Format::Png, "30x30", Some(Color::Grey), Some(16), false, 1),
    ("rgb-40x40.jpg", Format::Jpeg, "40x40", Some(Color::Rgb), Some(8), false, 1),
    ("cmyk-16x16.jpg", Format::Jpeg, "16x16", Some(Color::Cmyk), Some(8), false, 1),
    ("rotated-gps-32x24.jpg", Format::Jpeg, "32x24", Some(Color::Rgb), Some(8), false, 1),
    ("icc-20x20.jpg", Format::Jpeg, "20x20", Some(Color::Rgb), Some(8), false, 1),
    ("anim-3frames-10x10.gif", Format::Gif, "10x10", Some(Color::Palette), Some(8), false, 3),
    ("anim-2frames-10x10.webp", Format::Webp, "10x10", Some(Color::Rgb), Some(8), false, 2),
    ("still-60x20.webp", Format::Webp, "60x20", Some(Color::Rgb), Some(8), false, 1),
    ("rgb-16x16.avif", Format::Avif, "16x16", Some(Color::Rgb), Some(8), false, 1),
    ("alpha-16x16.avif", Format::Avif, "16x16", Some(Color::Rgb), Some(8), true, 1),
    ("grid-10x10.heic", Format::Heic, "10x10", Some(Color::Rgb), Some(10), false, 1),
    ("exif-gps-10x10.heic", Format::Heic, "10x10", Some(Color::Rgb), Some(10), false, 1),
    ("rgb-20x10.bmp", Format::Bmp, "20x10", Some(Color::Rgb), Some(8), false, 1),
    ("rgb-12x8.tif", Format::Tiff, "12x8", Some(Color::Rgb), Some(16), false, 1),
    ("cmyk-12x8.tif", Format::Tiff, "12x8", Some(Color::Cmyk), Some(16), false, 1),
    ("icon-32.ico", Format::Ico, "32x32", Some(Color::Rgb), Some(8), true, 1),
    ("sized-90x90.svg", Format::Svg, "90x90", None, None, false, 1),
    ("viewbox-300x100.svg", Format::Svg, "300x100", None, None, false, 1),
    ("no-size.svg", Format::Svg, "no intrinsic size", None, None, false, 1),
];

#[test]
fn every_format_reads_its_fields_from_a_real_image() {
    for &(name, format, size, color, depth, alpha, frames) in TABLE {
        let f = facts(name);
        let got = (f.format, f.size_text(), f.color, f.bit_depth, f.alpha, f.frames);
        assert_eq!(got, (format, size.to_string(), color, depth, alpha, frames), "{name}");
        assert_eq!(f.bytes, fixture(name).len() as u64, "{name}");
    }
}

#[test]
fn every_fixture_is_in_the_table() {
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(TABLE.iter().any(|row| row.0 == name), "{name} is not in TABLE");
    }
}

#[test]
fn a_rotated_jpeg_shows_its_orientation_gps_and_xmp() {
    let f = facts("rotated-gps-32x24.jpg");
    assert_eq!((f.orientation, f.exif, f.gps, f.xmp), (Some(6), true, true, true));
    let plain = facts("rgb-40x40.jpg");
    assert_eq!(
        (plain.orientation, plain.exif, plain.gps, plain.xmp),
        (None, false, false, false)
    );
}

#[test]
fn a_heic_shows_the_orientation_and_gps_of_its_exif_item() {
    let f = facts("exif-gps-10x10.heic");
    assert_eq!((f.orientation, f.exif, f.gps), (Some(6), true, true));
    let plain = facts("grid-10x10.heic");
    assert_eq!((plain.orientation, plain.exif, plain.gps), (None, false, false));
}

#[test]
fn a_jpeg_with_an_icc_profile_says_so() {
    assert!(facts("icc-20x20.jpg").icc);
}

#[test]
fn a_cmyk_tiff_and_avif_carry_an_icc_profile_or_not_as_made() {
    // ImageMagick writes no profile into these; libavif writes nclx, not ICC.
    for name in ["rgb-12x8.tif", "rgb-16x16.avif", "rgb-60x20.png"] {
        assert!(!facts(name).icc, "{name}");
    }
}

/// A PNG header declaring `width` x `height`, and nothing after it.
pub(crate) fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend(width.to_be_bytes());
    png.extend(height.to_be_bytes());
    png.extend([8, 6, 0, 0, 0]);
    png.extend([0; 4]);
    // The image data begins; the file is cut there.
    png.extend(b"\0\0\x10\0IDAT");
    png
}

#[test]
fn a_huge_png_header_is_read_without_allocating_for_its_pixels() {
    let png = png_header(100_000, 100_000);
    let f = read(Cursor::new(png.clone()), png.len() as u64).unwrap();
    assert_eq!(f.pixels(), Some(10_000_000_000));
}

#[test]
fn a_header_cut_short_is_truncated_and_an_unknown_file_unknown() {
    let png = fixture("rgb-60x20.png");
    assert!(matches!(read(Cursor::new(&png[..20]), 20), Err(Fault::Truncated)));
    assert!(matches!(read(Cursor::new(b"hello".to_vec()), 5), Err(Fault::Unknown)));
    let jpeg = fixture("rgb-40x40.jpg");
    assert!(read(Cursor::new(&jpeg[..40]), 40).is_err());
}

fn read_bytes(bytes: &[u8]) -> Result<ImageFacts, Fault> {
    read(Cursor::new(bytes), bytes.len() as u64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_bytes(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_each_signature_never_panic(
        which in 0usize..TABLE.len(),
        keep in 0usize..64,
        tail in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        // The fixture's own first bytes (its signature and more), then noise.
        let mut bytes = fixture(TABLE[which].0);
        bytes.truncate(keep.max(4));
        bytes.extend(tail);
        let _ = read_bytes(&bytes);
    }

    #[test]
    fn every_fixture_cut_anywhere_never_panics(which in 0usize..TABLE.len(), cut in 0.0f64..1.0) {
        let bytes = fixture(TABLE[which].0);
        let cut = (bytes.len() as f64 * cut) as usize;
        let _ = read_bytes(&bytes[..cut]);
    }

    #[test]
    fn every_fixture_with_bytes_changed_never_panics(
        which in 0usize..TABLE.len(),
        edits in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 1..8),
    ) {
        let mut bytes = fixture(TABLE[which].0);
        for (at, value) in edits {
            let at = (bytes.len() as f64 * at) as usize;
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        let _ = read_bytes(&bytes);
    }

    #[test]
    fn a_claimed_length_past_the_file_is_truncated_not_a_panic(len in 0u64..u64::MAX) {
        // The reader is told the file is longer than it is.
        let bytes = fixture("rgb-40x40.jpg");
        let _ = read(Cursor::new(bytes), len);
    }
}
