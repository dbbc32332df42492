//! Bounded, seeking reads of an image file for the header readers.
//!
//! Every read names its offset and length, checks both against the file's
//! length first (a structure that runs past the end is `Truncated`, found
//! before any allocation), and is capped at [`READ_CAP`]. Reads go through a
//! `BufReader` moved with `seek_relative`, so walking small structures one
//! after another costs few system calls.

use std::io::{BufReader, Read, Seek, SeekFrom};

use super::Fault;

/// The most bytes read at once (a header structure longer than this is read
/// only this far: an EXIF block, an SVG's start).
pub(super) const READ_CAP: usize = 64 * 1024;

/// How many bytes the format is sniffed from.
const HEAD_LEN: usize = crate::media_type::SNIFF_LEN;

pub(super) struct Src<R> {
    inner: BufReader<R>,
    /// Where `inner` is, as an offset from the start of the file.
    pos: u64,
    pub len: u64,
}

impl<R: Read + Seek> Src<R> {
    pub(super) fn new(reader: R, len: u64) -> Src<R> {
        Src {
            inner: BufReader::with_capacity(8 * 1024, reader),
            pos: 0,
            len,
        }
    }

    /// The first bytes of the file (fewer for a short file).
    pub(super) fn head(&mut self) -> Result<Vec<u8>, Fault> {
        let n = self.len.min(HEAD_LEN as u64) as usize;
        self.read_at(0, n)
    }

    fn goto(&mut self, pos: u64) -> Result<(), Fault> {
        let delta = i64::try_from(pos)
            .ok()
            .zip(i64::try_from(self.pos).ok())
            .map(|(a, b)| a - b);
        match delta {
            Some(delta) => self.inner.seek_relative(delta)?,
            None => return Err(Fault::Truncated),
        }
        self.pos = pos;
        Ok(())
    }

    /// Exactly `n` bytes at `pos` (`n` is capped at [`READ_CAP`]).
    pub(super) fn read_at(&mut self, pos: u64, n: usize) -> Result<Vec<u8>, Fault> {
        let n = n.min(READ_CAP);
        if pos.checked_add(n as u64).is_none_or(|end| end > self.len) {
            return Err(Fault::Truncated);
        }
        self.goto(pos)?;
        let mut buf = vec![0; n];
        self.inner.read_exact(&mut buf)?;
        self.pos += n as u64;
        Ok(buf)
    }

    /// Up to `n` bytes at `pos`: fewer when the file ends first.
    pub(super) fn read_upto(&mut self, pos: u64, n: usize) -> Result<Vec<u8>, Fault> {
        let n = (n as u64).min(self.len.saturating_sub(pos)) as usize;
        self.read_at(pos, n)
    }

    /// `N` bytes at `pos`.
    pub(super) fn array<const N: usize>(&mut self, pos: u64) -> Result<[u8; N], Fault> {
        if pos.checked_add(N as u64).is_none_or(|end| end > self.len) {
            return Err(Fault::Truncated);
        }
        self.goto(pos)?;
        let mut buf = [0; N];
        self.inner.read_exact(&mut buf)?;
        self.pos += N as u64;
        Ok(buf)
    }

    pub(super) fn byte(&mut self, pos: u64) -> Result<u8, Fault> {
        Ok(self.array::<1>(pos)?[0])
    }

    /// Width and height as the `imagesize` crate reads them.
    pub(super) fn imagesize(&mut self) -> Result<(u32, u32), Fault> {
        self.inner.seek(SeekFrom::Start(0))?;
        let size = imagesize::reader_size(&mut self.inner);
        self.pos = self.inner.stream_position()?;
        let size = size.map_err(|e| match e {
            imagesize::ImageError::IoError(err) => Fault::from(err),
            _ => Fault::Malformed("no image size in its header"),
        })?;
        let dim = |n: usize| u32::try_from(n).map_err(|_| Fault::Malformed("a dimension over 4294967295"));
        Ok((dim(size.width)?, dim(size.height)?))
    }

    /// The underlying reader, for a crate that walks the container itself;
    /// positions are tracked again on the next read.
    pub(super) fn with_reader<T>(&mut self, f: impl FnOnce(&mut BufReader<R>) -> T) -> Result<T, Fault> {
        self.inner.seek(SeekFrom::Start(0))?;
        let out = f(&mut self.inner);
        self.pos = self.inner.stream_position()?;
        Ok(out)
    }
}

pub(super) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(super) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(super) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(super) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
