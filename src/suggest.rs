//! "Did you mean ...?": the one rule for every name a user types (a profile,
//! a setting key, a config table), so each place suggests alike.
//!
//! A candidate is suggested when it is within a small edit distance of what
//! was typed, compared without regard to case: at most a third of its letters
//! wrong, and at most 3. The distance is the optimal string alignment distance
//! (`strsim::osa_distance`), where swapping two neighbouring letters
//! (`prdo` for `prod`) counts as one edit, as it does for the person typing.

/// The candidate closest to `typed`, when it is close enough to be a typo;
/// the first of equally close ones.
pub(crate) fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let limit = (typed.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|candidate| (strsim::osa_distance(&typed, &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_find_their_closest_candidate() {
        let keys = ["base_url", "auth", "username", "namespace", "jobs"];
        for (typed, expected) in [
            ("base_ur", Some("base_url")),
            ("namespce", Some("namespace")),
            ("namspace", Some("namespace")),
            ("job", Some("jobs")),
            ("JOBS", Some("jobs")),
            ("usernmae", Some("username")),
            ("zzz", None),
            ("", None),
        ] {
            assert_eq!(closest(typed, keys), expected, "{typed}");
        }
    }

    #[test]
    fn a_swap_of_neighbours_is_one_edit() {
        assert_eq!(closest("prdo", ["prod", "staging"]), Some("prod"));
        assert_eq!(closest("stagng", ["prod", "staging"]), Some("staging"));
        assert_eq!(closest("prod", ["prd", "staging"]), Some("prd"));
    }

    #[test]
    fn the_nearer_wins_and_a_tie_goes_to_the_first() {
        assert_eq!(closest("prof", ["prod", "proof"]), Some("prod"));
        assert_eq!(closest("abcx", ["abcy", "abcz"]), Some("abcy"));
    }

    #[test]
    fn a_short_name_allows_one_edit_and_a_long_one_three() {
        assert_eq!(closest("ab", ["xy"]), None);
        assert_eq!(closest("ab", ["ax"]), Some("ax"));
        let long = "abcdefghijkl";
        assert_eq!(closest(long, ["abcdefghiXYZ"]), Some("abcdefghiXYZ"));
        assert_eq!(closest(long, ["abcdefghWXYZ"]), None);
    }
}
