//! A request rate as the user writes it: `100/min`, `10/2s`, `5000/h`.

use std::fmt;
use std::time::Duration;

use super::ValueError;

/// A request rate: `requests` per `period`, as in `100/min` or `10/2s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub period: Duration,
}

impl Rate {
    /// Parses `N/UNIT` or `N/KUNIT`, the unit one of `s`, `sec`, `m`, `min`,
    /// `h`, `hour` (`100/min`, `10/2s`, `5000/h`). The period is whole seconds,
    /// from one second to a day.
    pub fn parse(text: &str) -> Result<Rate, ValueError> {
        let bad = || ValueError::NotARate { text: text.to_string() };
        let (count, per) = text.trim().split_once('/').ok_or_else(bad)?;
        let requests: u32 = count.trim().parse().map_err(|_| bad())?;
        if requests == 0 {
            return Err(ValueError::RateZero { text: text.to_string() });
        }
        let per = per.trim();
        let digits = per.find(|c: char| !c.is_ascii_digit()).unwrap_or(per.len());
        let (amount, unit) = per.split_at(digits);
        let amount: u64 = if amount.is_empty() {
            1
        } else {
            amount.parse().map_err(|_| bad())?
        };
        let unit_secs = match unit {
            "s" | "sec" => 1,
            "m" | "min" => 60,
            "h" | "hour" => 3600,
            _ => return Err(bad()),
        };
        let secs = amount.saturating_mul(unit_secs);
        if !(1..=86_400).contains(&secs) {
            return Err(ValueError::RatePeriod { text: text.to_string() });
        }
        Ok(Rate {
            requests,
            period: Duration::from_secs(secs),
        })
    }
}

/// The shortest form that parses back to the same rate: `100/min`, `10/2s`.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.period.as_secs();
        let (amount, unit) = if secs.is_multiple_of(3600) {
            (secs / 3600, "h")
        } else if secs.is_multiple_of(60) {
            (secs / 60, "min")
        } else {
            (secs, "s")
        };
        if amount == 1 {
            write!(f, "{}/{unit}", self.requests)
        } else {
            write!(f, "{}/{amount}{unit}", self.requests)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print_back() {
        for (text, requests, period, shown) in [
            ("100/min", 100, 60, "100/min"),
            ("10/2s", 10, 2, "10/2s"),
            ("60/10s", 60, 10, "60/10s"),
            ("5/s", 5, 1, "5/s"),
            ("5000/h", 5000, 3600, "5000/h"),
            (" 100 / 1min ", 100, 60, "100/min"),
            ("7/120s", 7, 120, "7/2min"),
            ("1/24hour", 1, 86_400, "1/24h"),
        ] {
            let rate = Rate::parse(text).unwrap();
            assert_eq!(
                rate,
                Rate {
                    requests,
                    period: Duration::from_secs(period)
                },
                "{text}"
            );
            assert_eq!(rate.to_string(), shown);
            assert_eq!(Rate::parse(shown), Ok(rate));
        }
        for bad in [
            "", "100", "0/min", "-1/min", "1.5/min", "100/week", "100/0s", "10/25h", "x/s", "10/2 s s",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?}");
        }
    }
}
