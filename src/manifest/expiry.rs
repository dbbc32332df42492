//! When a secure URL expires, and the manifest's time format.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// When a pre-signed secure URL expires: `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`) +
/// `X-Amz-Expires` (seconds), or the emulator's `expires` (unix seconds).
/// `None` when the URL says neither (or says it badly).
pub(crate) fn expiry_of(secure_url: &str) -> Option<OffsetDateTime> {
    let url = url::Url::parse(secure_url).ok()?;
    let (mut amz_date, mut amz_expires, mut expires) = (None, None, None);
    for (key, value) in url.query_pairs() {
        if key.eq_ignore_ascii_case("X-Amz-Date") {
            amz_date = Some(value);
        } else if key.eq_ignore_ascii_case("X-Amz-Expires") {
            amz_expires = Some(value);
        } else if key == "expires" {
            expires = Some(value);
        }
    }
    if let (Some(date), Some(secs)) = (amz_date, amz_expires) {
        let signed = parse_amz_date(&date)?;
        let secs: u32 = secs.parse().ok()?;
        return signed.checked_add(time::Duration::seconds(secs.into()));
    }
    let unix: i64 = expires?.parse().ok()?;
    OffsetDateTime::from_unix_timestamp(unix).ok()
}

/// The manifest's time format: RFC 3339 in UTC, whole seconds, `Z`.
const MANIFEST_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// `X-Amz-Date`'s format (ISO 8601 basic, UTC).
const AMZ_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year][month][day]T[hour][minute][second]Z");

/// `2024-05-08T03:40:59Z`: RFC 3339, UTC, whole seconds.
pub(crate) fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC).replace_nanosecond(0).unwrap_or(at);
    // Formatting a UTC time with a fixed description only fails for years
    // outside 0..=9999, which no clock or manifest here produces.
    at.format(MANIFEST_TIME).unwrap_or_default()
}

/// Reads what [`format_time`] writes, and nothing else.
pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    parse_utc(text, MANIFEST_TIME)
}

/// `20240508T034059Z`.
pub(super) fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    parse_utc(text, AMZ_DATE)
}

fn parse_utc(text: &str, format: &[BorrowedFormatItem<'_>]) -> Option<OffsetDateTime> {
    // `[year]` also reads a leading sign (`+2024`), which neither format has.
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    PrimitiveDateTime::parse(text, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}
