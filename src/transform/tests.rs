use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::image::read;
use ::image::ImageEncoder as _;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/images")
        .join(name);
    std::fs::read(path).unwrap()
}

fn facts(bytes: &[u8]) -> ImageFacts {
    read(std::io::Cursor::new(bytes), bytes.len() as u64).unwrap()
}

fn settings() -> Settings {
    Settings::default()
}

#[test]
fn fit_scales_down_only_and_keeps_the_aspect() {
    let cases = [
        ((4000, 3000), (2048, 2048), (2048, 1536)),
        ((3000, 4000), (2048, 2048), (1536, 2048)),
        ((100, 50), (2048, 2048), (100, 50)),
        ((4000, 10), (100, 100), (100, 1)),
        ((10, 4000), (100, 100), (1, 100)),
        ((2048, 2048), (2048, 2048), (2048, 2048)),
        ((4001, 3001), (1000, 2000), (1000, 750)),
    ];
    for ((w, h), (mw, mh), want) in cases {
        assert_eq!(fit_size(w, h, mw, mh), want, "{w}x{h} in {mw}x{mh}");
    }
}

proptest! {
    #[test]
    fn fit_never_grows_nor_overflows(w in 1u32..100_000, h in 1u32..100_000, mw in 1u32..10_000, mh in 1u32..10_000) {
        let (fw, fh) = fit_size(w, h, mw, mh);
        prop_assert!(fw <= w && fh <= h);
        prop_assert!(fw >= 1 && fh >= 1);
        prop_assert!(fw <= mw.max(w.min(mw)) && fh <= mh.max(h.min(mh)));
        if w > mw || h > mh {
            prop_assert!(fw <= mw && fh <= mh);
        }
    }

    #[test]
    fn strippers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), kind in 0u8..3) {
        let mut input = match kind {
            0 => vec![0xFF, 0xD8],
            1 => b"\x89PNG\r\n\x1a\n".to_vec(),
            _ => b"RIFF\0\0\0\0WEBP".to_vec(),
        };
        input.extend_from_slice(&bytes);
        let _ = strip::jpeg(&input, Some(6));
        let _ = strip::png(&input);
        let _ = strip::webp(&input);
    }
}

#[test]
fn a_turned_jpeg_keeps_its_orientation_and_icc_loses_gps() {
    let source = fixture("rotated-gps-32x24.jpg");
    let before = facts(&source);
    assert!(before.gps && before.orientation == Some(6), "{before:?}");
    let s = Settings {
        strip_metadata: true,
        ..settings()
    };
    let out = apply(&source, &before, &s).unwrap().unwrap();
    let after = facts(&out.bytes);
    assert!(!after.gps && !after.xmp, "{after:?}");
    assert_eq!(after.orientation, Some(6));
    assert_eq!((after.width, after.height), (before.width, before.height));
    // Lossless: the entropy-coded data after SOS is byte for byte the same.
    let sos = |b: &[u8]| b.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    assert_eq!(&out.bytes[sos(&out.bytes)..], &source[sos(&source)..]);
}

#[test]
fn icc_is_kept_by_stripping_and_by_reencoding() {
    let source = fixture("icc-20x20.jpg");
    let before = facts(&source);
    assert!(before.icc);
    for s in [
        Settings {
            strip_metadata: true,
            ..settings()
        },
        Settings {
            fit: Some((10, 10)),
            strip_metadata: true,
            ..settings()
        },
    ] {
        let out = match apply(&source, &before, &s).unwrap() {
            Some(t) => t.bytes,
            None => source.clone(),
        };
        assert!(facts(&out).icc, "{s:?}");
    }
}

#[test]
fn auto_orient_turns_the_pixels_upright() {
    let source = fixture("rotated-gps-32x24.jpg");
    let before = facts(&source);
    let s = Settings {
        auto_orient: true,
        ..settings()
    };
    let out = apply(&source, &before, &s).unwrap().unwrap();
    let after = facts(&out.bytes);
    assert_eq!((after.width, after.height), (Some(24), Some(32)));
    assert!(after.orientation.is_none_or(|o| o == 1) && !after.gps, "{after:?}");
}

#[test]
fn animations_and_cmyk_are_refused_for_pixel_work() {
    for (name, want) in [
        ("anim-3frames-10x10.gif", "animated (3 frames)"),
        ("anim-2frames-10x10.webp", "animated (2 frames)"),
        ("cmyk-16x16.jpg", "CMYK"),
        ("rgb-20x10.bmp", "cannot decode a bmp"),
    ] {
        let source = fixture(name);
        let s = Settings {
            fit: Some((4, 4)),
            ..settings()
        };
        let err = check(&facts(&source), &s).unwrap_err().to_string();
        assert!(err.contains(want), "{name}: {err}");
        assert!(err.contains("--fit 4x4"), "{name}: {err}");
    }
}

#[test]
fn a_decompression_bomb_is_refused_before_pixels_are_allocated() {
    // A 1 x 1 PNG header claiming 60000 x 60000: refused by the decoder's
    // header check, under a pixel limit.
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&[0u8; 3], 1, 1, image::ExtendedColorType::Rgb8)
        .unwrap();
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = pixels::run(
        &png,
        &facts(&fixture("rgb-60x20.png")),
        &Settings {
            max_pixels: 1_000_000,
            fit: Some((10, 10)),
            ..settings()
        },
        &check(
            &facts(&fixture("rgb-60x20.png")),
            &Settings {
                fit: Some((10, 10)),
                ..settings()
            },
        )
        .unwrap(),
    )
    .unwrap_err();
    assert!(err.0.contains("over max_pixels"), "{err}");
}

#[test]
fn max_bytes_steps_the_quality_down_or_names_the_size_reached() {
    let source = noisy_jpeg(256, 256);
    let before = facts(&source);
    let fits = Settings {
        max_bytes: Some(source.len() as u64 / 3),
        reencode: true,
        quality: 95,
        ..settings()
    };
    let out = apply(&source, &before, &fits).unwrap().unwrap();
    assert!(out.bytes.len() as u64 <= source.len() as u64 / 3);
    assert!(out.done.iter().any(|d| d.starts_with("quality ")), "{:?}", out.done);
    let too_small = Settings {
        max_bytes: Some(100),
        ..fits
    };
    let err = apply(&source, &before, &too_small).unwrap_err();
    assert!(err.0.contains("at quality 20 is over --max-bytes 100"), "{err}");
    let without = Settings {
        reencode: false,
        ..too_small
    };
    let err = apply(&source, &before, &without).unwrap_err();
    assert!(
        err.0
            .starts_with(&format!("{} bytes is over --max-bytes 100", source.len())),
        "{err}"
    );
}

fn noisy_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(7);
    let pixels: Vec<u8> = (0..w * h * 3).map(|_| rng.u8(..)).collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

#[test]
fn the_key_changes_with_every_setting() {
    let base = Settings::default();
    let variants = [
        Settings {
            strip_metadata: true,
            ..base.clone()
        },
        Settings {
            auto_orient: true,
            ..base.clone()
        },
        Settings {
            fit: Some((10, 10)),
            ..base.clone()
        },
        Settings {
            fit: Some((10, 11)),
            ..base.clone()
        },
        Settings {
            max_bytes: Some(5),
            ..base.clone()
        },
        Settings {
            reencode: true,
            ..base.clone()
        },
        Settings {
            convert: Some(Format::Webp),
            ..base.clone()
        },
        Settings {
            quality: 70,
            ..base.clone()
        },
    ];
    let mut keys: Vec<String> = variants.iter().map(Settings::key).collect();
    keys.push(base.key());
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
}

#[test]
fn png_strip_keeps_pixels_and_icc_chunks_and_drops_text() {
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&[9u8; 12], 2, 2, image::ExtendedColorType::Rgb8)
        .unwrap();
    // tEXt and iCCP-like chunks before IEND.
    let chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    };
    let iend = png.len() - 12;
    let mut with = png[..iend].to_vec();
    with.extend(chunk(b"tEXt", b"GPS\0here"));
    with.extend(chunk(b"eXIf", b"MM\0*"));
    with.extend(chunk(b"sRGB", &[0]));
    with.extend_from_slice(&png[iend..]);
    let out = strip::png(&with).unwrap();
    assert!(!out.windows(4).any(|w| w == b"tEXt" || w == b"eXIf"));
    assert!(out.windows(4).any(|w| w == b"sRGB"));
    assert_eq!(out.len(), with.len() - (12 + 8) - (12 + 4));
}

/// PNG's CRC-32, for a header edited by a test.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
