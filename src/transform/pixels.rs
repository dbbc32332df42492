//! The transforms that change pixels: decode with limits, turn upright,
//! scale down, encode (stepping the JPEG quality down under a budget).
//!
//! Decoding goes through the `image` crate (JPEG by `zune-jpeg`) with its
//! `Limits`: the decoder's own header is held to the pixel limit before any
//! pixel buffer is allocated, and every allocation to 512 MiB, so a
//! decompression bomb fails at once. Scaling is `fast_image_resize`'s
//! Lanczos3 convolution (SIMD), with alpha premultiplied. Only the ICC
//! profile is carried over to the new file.

use std::io::Cursor;

use fast_image_resize as fir;
use image::codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder};
use image::metadata::Orientation;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageReader, Limits};

use super::{MIN_QUALITY, Plan, QUALITY_STEP, Settings, TransformError, Transformed, over_budget};
use crate::image::{Format, ImageFacts};

/// The most a decoder may allocate at once.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

fn fail(what: &str) -> impl Fn(image::ImageError) -> TransformError + '_ {
    move |e| TransformError(format!("cannot {what} it: {e}"))
}

/// A decoded image, upright, and its ICC profile.
struct Decoded {
    image: DynamicImage,
    icc: Option<Vec<u8>>,
    turned: bool,
}

/// Decodes `bytes` with limits: at most `max_pixels` pixels and
/// [`MAX_ALLOC`] bytes, checked from the decoder's header first.
fn decode(bytes: &[u8], max_pixels: u64) -> Result<Decoded, TransformError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| TransformError(format!("cannot read it: {e}")))?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(fail("decode"))?;
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return Err(TransformError(format!(
            "{w}x{h} ({pixels} pixels) is over max_pixels {max_pixels}; not decoded"
        )));
    }
    let icc = decoder.icc_profile().ok().flatten();
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(fail("decode"))?;
    image.apply_orientation(orientation);
    Ok(Decoded {
        image,
        icc,
        turned: orientation != Orientation::NoTransforms,
    })
}

/// Pixels in one of the layouts the resizer and encoders share.
struct Raster {
    width: u32,
    height: u32,
    data: Vec<u8>,
    color: ExtendedColorType,
}

impl Raster {
    /// The image as 8-bit grey, RGB or RGBA; `opaque` drops alpha (JPEG).
    fn of(image: DynamicImage, opaque: bool) -> Raster {
        let (width, height) = (image.width(), image.height());
        let grey = !image.color().has_color();
        let alpha = image.color().has_alpha() && !opaque;
        let (data, color) = match (grey, alpha) {
            (true, false) => (image.into_luma8().into_raw(), ExtendedColorType::L8),
            (_, true) => (image.into_rgba8().into_raw(), ExtendedColorType::Rgba8),
            (false, false) => (image.into_rgb8().into_raw(), ExtendedColorType::Rgb8),
        };
        Raster {
            width,
            height,
            data,
            color,
        }
    }

    fn pixel_type(&self) -> fir::PixelType {
        match self.color {
            ExtendedColorType::L8 => fir::PixelType::U8,
            ExtendedColorType::Rgba8 => fir::PixelType::U8x4,
            _ => fir::PixelType::U8x3,
        }
    }

    /// Scaled to `width x height` (Lanczos3, alpha premultiplied).
    fn resized(self, width: u32, height: u32) -> Result<Raster, TransformError> {
        let kind = self.pixel_type();
        let err = |e: &dyn std::fmt::Display| TransformError(format!("cannot resize it: {e}"));
        let src = fir::images::Image::from_vec_u8(self.width, self.height, self.data, kind).map_err(|e| err(&e))?;
        let mut dst = fir::images::Image::new(width, height, kind);
        let options = fir::ResizeOptions::new().resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
        fir::Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| err(&e))?;
        Ok(Raster {
            width,
            height,
            data: dst.into_vec(),
            color: self.color,
        })
    }

    /// Encoded as `format` (JPEG at `quality`), with the ICC profile.
    fn encode(&self, format: Format, quality: u8, icc: Option<&[u8]>) -> Result<Vec<u8>, TransformError> {
        let mut out = Vec::new();
        match format {
            Format::Jpeg => self.write(JpegEncoder::new_with_quality(&mut out, quality), icc)?,
            Format::Png => self.write(PngEncoder::new(&mut out), icc)?,
            Format::Webp => self.write(WebPEncoder::new_lossless(&mut out), icc)?,
            other => return Err(TransformError(format!("capfile does not encode {other}"))),
        }
        Ok(out)
    }

    fn write(&self, mut encoder: impl ImageEncoder, icc: Option<&[u8]>) -> Result<(), TransformError> {
        if let Some(icc) = icc {
            // An encoder that cannot carry a profile sends the pixels without it.
            let _ = encoder.set_icc_profile(icc.to_vec());
        }
        encoder
            .write_image(&self.data, self.width, self.height, self.color)
            .map_err(fail("encode"))
    }
}

/// Decodes, turns, scales and encodes the image, stepping the JPEG quality
/// down until `max_bytes` is met when `--reencode` allows it.
pub(super) fn run(
    bytes: &[u8],
    facts: &ImageFacts,
    settings: &Settings,
    plan: &Plan,
) -> Result<Transformed, TransformError> {
    let Decoded { image, icc, turned } = decode(bytes, settings.max_pixels)?;
    // A GIF is sent as a PNG: capfile does not quantise colours.
    let format = match plan.after.format {
        Format::Gif => Format::Png,
        other => other,
    };
    let (before_w, before_h) = (image.width(), image.height());
    let mut done = Vec::new();
    if turned {
        done.push(format!("auto-orient ({})", facts.orientation.unwrap_or(1)));
    }
    let mut raster = Raster::of(image, format == Format::Jpeg);
    if let Some((max_w, max_h)) = settings.fit {
        let (w, h) = super::fit_size(before_w, before_h, max_w, max_h);
        if (w, h) != (before_w, before_h) {
            raster = raster.resized(w, h)?;
            done.push(format!("fit {before_w}x{before_h}->{w}x{h}"));
        }
    }
    if format != facts.format {
        done.push(format!("convert {}->{format}", facts.format));
    }
    if settings.strip_metadata {
        done.push("strip-metadata (re-encoded)".to_string());
    }
    let mut quality = settings.quality;
    loop {
        let out = raster.encode(format, quality, icc.as_deref())?;
        let size = out.len() as u64;
        match settings.max_bytes {
            Some(max) if size > max => {
                let lower = quality.saturating_sub(QUALITY_STEP).max(MIN_QUALITY);
                if !(settings.reencode && format == Format::Jpeg) || quality == MIN_QUALITY {
                    let tried = (settings.reencode && format == Format::Jpeg).then_some(quality);
                    return Err(over_budget(size, max, format, tried, settings.reencode));
                }
                quality = lower;
            }
            _ => {
                if format == Format::Jpeg {
                    done.push(format!("quality {quality}"));
                }
                return Ok(Transformed {
                    bytes: out,
                    format,
                    width: Some(raster.width),
                    height: Some(raster.height),
                    done,
                });
            }
        }
    }
}
