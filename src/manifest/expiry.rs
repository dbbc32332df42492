//! When a secure URL expires, and the manifest's time format.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// When a pre-signed secure URL expires: `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`) +
/// `X-Amz-Expires` (seconds), or the emulator's `expires` (unix seconds).
/// `None` when the URL says neither (or says it badly).
pub fn expiry_of(secure_url: &str) -> Option<OffsetDateTime> {
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

/// `2024-05-08T03:40:59Z`: RFC 3339, UTC, whole seconds.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Reads what [`format_time`] writes.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[19] != b'Z' {
        return None;
    }
    utc(
        digits(text, 0, 4)?,
        digits(text, 5, 2)?,
        digits(text, 8, 2)?,
        digits(text, 11, 2)?,
        digits(text, 14, 2)?,
        digits(text, 17, 2)?,
    )
}

/// `20240508T034059Z`.
pub(super) fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    utc(
        digits(text, 0, 4)?,
        digits(text, 4, 2)?,
        digits(text, 6, 2)?,
        digits(text, 9, 2)?,
        digits(text, 11, 2)?,
        digits(text, 13, 2)?,
    )
}

pub(super) fn digits(text: &str, start: usize, len: usize) -> Option<u32> {
    let part = text.get(start..start + len)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

pub(super) fn utc(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}
