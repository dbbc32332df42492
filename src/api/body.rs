//! Request bodies streamed from disk, a chunk at a time, with progress.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc::error::TrySendError;

use super::activity::Activity;
use super::error::FileError;
use super::{ApiError, Progress};

/// Read size when streaming a file into a request body: one read, and one
/// buffer, per chunk. On a 1 GiB upload, 256 KiB ran faster than 128 or 512 KiB.
pub(super) const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the connection, per upload.
const READ_AHEAD: usize = 2;

/// The file as a streamed body that reports progress and keeps the idle timer
/// fed. The size checked before the batch must still be the size on disk.
///
/// One blocking task reads the file with plain `std::fs` reads of `CHUNK`
/// bytes, straight into each chunk's own buffer, and hands the chunks over a
/// short channel; the connection sends one while the next is read. (Reading
/// through `tokio::fs::File` costs a thread hand-off and a second copy per read,
/// which made a 1 GiB upload slower than curl's.) When the request is dropped,
/// the channel closes and the reader stops.
///
/// A file of at most one chunk (most images) is opened and read whole right
/// here, on the runtime's thread, with one read, as curl does: no thread
/// hand-off at all. Thread hand-offs (futex wake-ups and context switches)
/// were most of capfile's CPU per small upload beyond curl's (issue 22). The
/// file was read for its header moments ago, so its pages are in memory, and
/// it is opened without blocking on a FIFO swapped in since: at most one
/// chunk's read can hold the thread up.
pub(super) async fn file_body(
    path: &Path,
    size: u64,
    progress: Arc<dyn Progress>,
    activity: Arc<Activity>,
) -> Result<reqwest::Body, ApiError> {
    let owned = path.to_path_buf();
    let (chunks, receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
    let open = move || {
        // Without blocking on a FIFO swapped in since the check, and only a
        // regular file.
        let file = crate::fsio::open_regular(&owned).map_err(|e| FileError::Open {
            path: owned.clone(),
            source: Arc::new(e),
        })?;
        let len = file
            .metadata()
            .map_err(|e| FileError::Stat {
                path: owned.clone(),
                source: Arc::new(e),
            })?
            .len();
        if len == size && size <= CHUNK as u64 {
            // One chunk: read now (the channel has room for it).
            read_chunks(file, &owned, size, &chunks);
            return Ok((None, len));
        }
        Ok::<_, FileError>((Some((file, chunks)), len))
    };
    let opened = match size <= CHUNK as u64 {
        true => open(),
        // A larger file's open and stat may wait on the disk: off the thread.
        false => tokio::task::spawn_blocking(open).await.map_err(|e| FileError::Task {
            path: path.to_path_buf(),
            source: Arc::new(e),
        })?,
    };
    let (large, now) = opened?;
    if now != size {
        return Err(FileError::Changed {
            path: path.to_path_buf(),
            checked: size,
            now,
        }
        .into());
    }
    if let Some((file, chunks)) = large {
        let checked = path.to_path_buf();
        tokio::task::spawn_blocking(move || read_chunks(file, &checked, size, &chunks));
    }
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk, receiver))
    })
    .inspect(move |chunk| {
        if let Ok(chunk) = chunk {
            progress.chunk(chunk);
            progress.sent(chunk.len() as u64);
            activity.sent(chunk.len() as u64);
        }
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

/// Sends `size` bytes of `file` down `chunks`, `CHUNK` at a time, then stops;
/// a read error, a file that ends early, or one whose size is no longer
/// `size` once read (it grew or shrank while it was sent) is sent as the last
/// item, so the request fails rather than storing a cut copy. Returns early
/// once nobody receives.
fn read_chunks(
    file: std::fs::File,
    path: &Path,
    size: u64,
    chunks: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    let mut file = file.take(size);
    let mut remaining = size;
    while remaining > 0 {
        let want = remaining.min(CHUNK as u64) as usize;
        // read_to_end fills the spare capacity without zeroing it first.
        let mut buf = Vec::with_capacity(want);
        let mut item = match (&mut file).take(want as u64).read_to_end(&mut buf) {
            Ok(got) if got == want => Ok(Bytes::from(buf)),
            Ok(got) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file ended {} bytes early", remaining - got as u64),
            )),
            Err(err) => Err(err),
        };
        remaining -= want as u64;
        if remaining == 0 && item.is_ok() {
            // The last chunk waits for this check: a body of the checked
            // length would otherwise end as complete.
            if let Some(changed) = size_changed(file.get_ref(), path, size) {
                item = Err(std::io::Error::other(changed));
            }
        }
        let failed = item.is_err();
        // A read on the runtime's thread (one chunk) finds room in the
        // channel; only the reader thread of a larger file waits for it.
        let sent = match chunks.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(item)) => chunks.blocking_send(item).is_ok(),
            Err(TrySendError::Closed(_)) => false,
        };
        if !sent || failed {
            return;
        }
    }
}

/// The file's size, if it is no longer `size`.
fn size_changed(file: &std::fs::File, path: &Path, size: u64) -> Option<FileError> {
    let now = file.metadata().ok()?.len();
    (now != size).then(|| FileError::Changed {
        path: path.to_path_buf(),
        checked: size,
        now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read_chunks` sends for a file of `len` bytes told to be `size`.
    fn chunks_of(len: usize, size: u64) -> Vec<std::io::Result<Bytes>> {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &(0..len).map(|i| i as u8).collect::<Vec<_>>()).unwrap();
        std::io::Seek::rewind(&mut file).unwrap();
        let (sender, mut receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
        let reader = std::thread::spawn(move || read_chunks(file, Path::new("f"), size, &sender));
        let mut got = Vec::new();
        while let Some(item) = receiver.blocking_recv() {
            got.push(item);
        }
        reader.join().unwrap();
        got
    }

    #[test]
    fn file_chunks_cover_the_checked_size_in_order() {
        let len = 2 * CHUNK + 1000;
        let chunks: Vec<Bytes> = chunks_of(len, len as u64).into_iter().map(Result::unwrap).collect();
        let sizes: Vec<usize> = chunks.iter().map(Bytes::len).collect();
        assert_eq!(sizes, [CHUNK, CHUNK, 1000]);
        let joined: Vec<u8> = chunks.concat();
        assert!(joined.iter().enumerate().all(|(i, b)| *b == i as u8));
        // A file longer than checked (it grew) ends the body with an error,
        // after the checked size: it is never stored cut.
        let chunks = chunks_of(len, 10);
        assert_eq!(chunks.len(), 1);
        let err = chunks[0].as_ref().unwrap_err();
        assert!(err.to_string().contains("changed size"), "{err}");
    }

    #[test]
    fn a_file_that_shrank_ends_the_body_with_an_error() {
        let chunks = chunks_of(CHUNK + 10, (CHUNK + 500) as u64);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].as_ref().unwrap().len(), CHUNK);
        let err = chunks[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("490 bytes early"), "{err}");
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_opened_keeps_the_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone.png");
        let activity = Activity::new(3);
        let Err(err) = file_body(&missing, 3, Arc::new(super::super::NoProgress), activity).await else {
            panic!("a missing file cannot be a body")
        };
        let ApiError::File(FileError::Open { path, source }) = &err else {
            panic!("open error expected: {err:?}")
        };
        assert_eq!(path, &missing);
        assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        assert!(
            err.to_string()
                .starts_with(&format!("cannot open {}: ", missing.display())),
            "{err}"
        );
        assert!(!err.is_retryable());
    }

    #[tokio::test]
    async fn a_file_whose_size_changed_is_refused_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        std::fs::write(&path, b"12345").unwrap();
        let activity = Activity::new(3);
        let Err(err) = file_body(&path, 3, Arc::new(super::super::NoProgress), activity).await else {
            panic!("a file of another size cannot be a body")
        };
        assert!(
            matches!(&err, ApiError::File(FileError::Changed { checked: 3, now: 5, .. })),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{} changed size since it was checked (3 -> 5 bytes)", path.display())
        );
    }
}
