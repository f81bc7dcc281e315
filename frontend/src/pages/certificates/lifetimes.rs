//! The lifetimes offered in the request form.
//!
//! A certificate may live no longer than the strictest of its principals allows (the server
//! applies the same rule), so the choice shrinks and grows as principals are ticked.

/// Lifetimes people think in: 15 and 30 minutes, 1, 2, 4, 8 and 12 hours, 1, 2, 7 and 30 days.
const STEPS: [u64; 11] = [
    900,
    1800,
    3600,
    2 * 3600,
    4 * 3600,
    8 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    30 * 86_400,
];

/// The longest lifetime a certificate for `chosen` may have, or `max` when none is chosen.
pub fn cap<'a>(limits: impl Iterator<Item = (&'a str, u64)>, chosen: &[String], max: u64) -> u64 {
    limits
        .filter(|(principal, _)| chosen.iter().any(|c| c == principal))
        .map(|(_, limit)| limit)
        .min()
        .unwrap_or(max)
}

/// The lifetimes offered under `cap`, shortest first: the steps below it, `cap` itself, and the
/// policy's default when it is not a step.
pub fn options(cap: u64, default: u64) -> Vec<u64> {
    let mut options: Vec<u64> = STEPS.iter().copied().filter(|&s| s < cap).collect();
    options.push(cap);
    if default < cap {
        options.push(default);
    }
    options.sort_unstable();
    options.dedup();
    options
}

/// The lifetime used when `wanted` was chosen: itself when offered, else the longest offered
/// below it, so that unticking a principal shortens the choice and ticking it again restores it.
pub fn pick(options: &[u64], wanted: u64) -> u64 {
    options
        .iter()
        .copied()
        .filter(|&s| s <= wanted)
        .max()
        .or_else(|| options.first().copied())
        .unwrap_or(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strictest_ticked_principal_caps_the_lifetime() {
        let limits = [("root", 3600), ("zone-databases", 900)];
        let chosen = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cap_of = |names: &[&str]| cap(limits.iter().copied(), &chosen(names), 28_800);
        assert_eq!(cap_of(&["root", "zone-databases"]), 900);
        assert_eq!(cap_of(&["root"]), 3600);
        assert_eq!(cap_of(&[]), 28_800);
    }

    #[test]
    fn options_stop_at_the_cap_and_include_it_and_the_default() {
        assert_eq!(options(3600, 3600), [900, 1800, 3600]);
        assert_eq!(options(5400, 2700), [900, 1800, 2700, 3600, 5400]);
        assert_eq!(options(600, 3600), [600]);
    }

    #[test]
    fn a_choice_above_the_cap_falls_to_the_longest_allowed() {
        assert_eq!(pick(&[900, 1800, 3600], 3600), 3600);
        assert_eq!(pick(&[900, 1800], 3600), 1800);
        assert_eq!(pick(&[900, 1800], 600), 900);
    }
}
