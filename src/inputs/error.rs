//! Why the inputs of a command cannot be used: all usage errors (exit 2),
//! found before anything is sent. Each names the input (its label: the path
//! as given, or `-`) and the cause in one line.

use std::borrow::Cow;
use std::fmt;
use std::io;

use super::NameError;
use crate::exit::{ErrorKind, Failure};
use crate::image::ImageError;
use crate::policy::Violations;

/// An input that cannot be used, or inputs that cannot go together.
#[derive(Debug)]
pub(crate) enum InputError {
    /// `--name` given with more than one input.
    NameNeedsOneInput,
    /// `-` given more than once.
    StdinTwice,
    /// `-` given without `--name`.
    StdinNeedsName,
    /// Standard input could not be copied to its temporary file.
    Spool(io::Error),
    /// Two inputs would be stored under the same name.
    DuplicateName {
        label: String,
        remote: String,
        first: String,
    },
    /// Only directories were given, and they hold no image.
    NoImagesFound,
    /// More inputs than one batch can hold (its list indexes 4 GiB of names,
    /// 2^27 directories).
    TooManyInputs,
    /// The remote name an input would get is not a valid file name.
    BadName { label: String, source: NameError },
    /// A directory given without `-r`.
    IsDirectory { label: String },
    /// `--name` given for a directory.
    NameForDirectory { label: String },
    /// A path without a final component (`/`, `..`) and no `--name`.
    NoFileName { label: String },
    /// An empty file (only a placeholder has no body).
    EmptyFile { label: String },
    /// Not an image by its first bytes, without `--allow-any-type`.
    NotAnImage { label: String },
    /// An image whose header cannot be read (truncated, malformed).
    Image(ImageError),
    /// An image that breaks the upload policy (or the default max_pixels).
    Policy(Violations),
    /// A file or directory could not be read.
    Io { label: String, source: io::Error },
    /// A `--files-from` list (named by `label`) with no entry in it.
    EmptyList { label: String },
}

impl Failure for InputError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        let hint = match self {
            InputError::IsDirectory { .. } => "use -r to upload the images inside it",
            InputError::DuplicateName { .. } => {
                "pass --name-from-path to name files after their path (en/banner.png -> en_banner.png), or upload them separately with --name"
            }
            InputError::EmptyFile { .. } => "use --placeholder to create a placeholder without a body",
            InputError::NotAnImage { .. } => "use --allow-any-type to send it anyway",
            _ => return None,
        };
        Some(Cow::Borrowed(hint))
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::NameNeedsOneInput => f.write_str("--name takes a single input"),
            InputError::StdinTwice => f.write_str("standard input (`-`) can be read only once"),
            InputError::StdinNeedsName => f.write_str("-: standard input needs --name"),
            InputError::Spool(source) => write!(f, "-: cannot spool standard input: {source}"),
            InputError::DuplicateName { label, remote, first } => {
                write!(f, "{label}: remote name `{remote}` is also used by {first}")
            }
            InputError::NoImagesFound => f.write_str("no image files found in the given directories"),
            InputError::TooManyInputs => f.write_str("too many inputs for one batch; split it into several runs"),
            InputError::BadName { label, source } => write!(f, "{label}: {source}"),
            InputError::IsDirectory { label } => write!(f, "{label}: is a directory"),
            InputError::NameForDirectory { label } => write!(f, "{label}: --name cannot name a directory's files"),
            InputError::NoFileName { label } => write!(f, "{label}: has no file name; give one with --name"),
            InputError::EmptyFile { label } => write!(f, "{label}: file is empty"),
            InputError::NotAnImage { label } => write!(
                f,
                "{label}: not an image (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, AVIF, HEIC or SVG)"
            ),
            InputError::Image(error) => error.fmt(f),
            InputError::Policy(violations) => violations.fmt(f),
            InputError::Io { label, source } => match source.kind() {
                // In words, without the OS error code noise.
                io::ErrorKind::NotFound => write!(f, "{label}: no such file or directory"),
                io::ErrorKind::PermissionDenied => write!(f, "{label}: permission denied"),
                io::ErrorKind::IsADirectory => write!(f, "{label}: is a directory"),
                _ => write!(f, "{label}: {source}"),
            },
            InputError::EmptyList { label } => write!(f, "--files-from {label}: the list names no files"),
        }
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InputError::Spool(source) | InputError::Io { source, .. } => Some(source),
            InputError::BadName { source, .. } => Some(source),
            InputError::Image(error) => Some(error),
            _ => None,
        }
    }
}
