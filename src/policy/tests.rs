use proptest::prelude::*;

use super::*;
use crate::image::{Color, Format, ImageFacts};

fn facts(width: u32, height: u32) -> ImageFacts {
    ImageFacts {
        format: Format::Png,
        width: Some(width),
        height: Some(height),
        bytes: 1000,
        color: Some(Color::Rgb),
        bit_depth: Some(8),
        alpha: false,
        frames: 1,
        orientation: None,
        exif: false,
        gps: false,
        xmp: false,
        icc: false,
    }
}

fn policy(rules: &[(Rule, &str)]) -> Policy {
    Policy {
        name: "p".into(),
        rules: rules.iter().map(|(r, t)| (*r, r.check_text(t).unwrap())).collect(),
    }
}

/// (rule, text accepted, text refused)
const TEXTS: &[(Rule, &str, &str)] = &[
    (Rule::MaxBytes, "200000", "0"),
    (Rule::MinBytes, "0", "-1"),
    (Rule::Size, "90x90", "90x"),
    (Rule::MinWidth, "10", "ten"),
    (Rule::MaxWidth, "10", "0"),
    (Rule::MinHeight, "10", "1.5"),
    (Rule::MaxHeight, "10", ""),
    (Rule::Aspect, "3:1", "3:0"),
    (Rule::AspectTolerance, "0.05", "1.5"),
    (Rule::Formats, "png, jpg ,webp", "png,bmpx"),
    (Rule::Color, "gray", "rgba"),
    (Rule::Animated, "false", "no"),
    (Rule::MaxPixels, "100000000", "0"),
    (Rule::Gps, "refuse", "deny"),
    (Rule::Fit, "2048x2048", "2048"),
    (Rule::StripMetadata, "true", "yes"),
    (Rule::AutoOrient, "false", "1"),
    (Rule::Reencode, "true", "on"),
    (Rule::Convert, "webp", "gif"),
    (Rule::Quality, "85", "101"),
];

#[test]
fn every_rule_checks_its_text_and_round_trips_through_the_file() {
    assert_eq!(TEXTS.len(), Rule::ALL.len(), "a rule without a case");
    for (rule, good, bad) in TEXTS {
        let value = rule.check_text(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        let stored = rule.parse_input(good).unwrap();
        assert_eq!(rule.check_file(&stored).unwrap(), value, "{}", rule.name());
        assert!(rule.check_text(bad).is_err(), "{} accepted {bad:?}", rule.name());
    }
}

#[test]
fn the_default_max_pixels_applies_with_no_policy_and_a_policy_can_raise_it() {
    let huge = facts(100_000, 100_000);
    let refused = check("huge.png", &huge, None).unwrap();
    assert_eq!(
        refused.to_string(),
        "huge.png: 100000x100000 (10000000000 pixels) is over the default max_pixels 100000000"
    );
    let raised = policy(&[(Rule::MaxPixels, "10000000000")]);
    assert_eq!(check("huge.png", &huge, Some(&raised)), None);
    assert_eq!(check("ok.png", &facts(10_000, 10_000), None), None);
}

#[test]
fn the_issue_example_reads_as_one_line() {
    let p = Policy {
        name: "reward-art".into(),
        ..policy(&[(Rule::Aspect, "1:1")])
    };
    let line = check("banner.png", &facts(1200, 400), Some(&p)).unwrap().to_string();
    assert_eq!(line, "banner.png: 1200x400 is not 1:1 (policy reward-art)");
}

proptest! {
    #[test]
    fn an_exact_multiple_of_the_aspect_always_fits(w in 1u32..50, h in 1u32..50, k in 1u32..200) {
        let p = policy(&[(Rule::Aspect, &format!("{w}:{h}")), (Rule::AspectTolerance, "0")]);
        prop_assert_eq!(check("a", &facts(w * k, h * k), Some(&p)), None);
    }

    #[test]
    fn an_aspect_off_by_more_than_the_tolerance_is_refused(w in 1u32..1000, h in 1u32..1000, extra in 1u32..1000) {
        // width + extra against w:h with a tolerance below the error
        let p = policy(&[(Rule::Aspect, &format!("{w}:{h}")), (Rule::AspectTolerance, "0")]);
        let off = facts(w + extra, h);
        prop_assert!(check("a", &off, Some(&p)).is_some());
    }

    #[test]
    fn size_bounds_agree_with_the_numbers(width in 1u32..5000, min in 0u64..5000, max in 1u64..5000) {
        let p = policy(&[(Rule::MinWidth, &min.to_string()), (Rule::MaxWidth, &max.to_string())]);
        let broken = check("a", &facts(width, 10), Some(&p)).is_some();
        prop_assert_eq!(broken, u64::from(width) < min || u64::from(width) > max);
    }
}
