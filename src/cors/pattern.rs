//! The one-`*` wildcard patterns of `AllowedOrigins` and `AllowedHeaders`: matching, and
//! exact reasoning about which pattern covers which.
//!
//! A pattern without `*` matches exactly itself. A pattern `P*S` with one `*` matches a
//! value that starts with `P`, ends with `S`, and is at least `|P| + |S|` long: **the `*`
//! may match the empty string**, so `prefix*` matches `prefix`. docs/s3-cors-semantics.md marks
//! this as unsure; we follow ceph s3-tests (`test_cors_origin_response`), which accepts it, and
//! not LocalStack, which requires one character. Origins compare case-sensitively
//! ([`Case::Sensitive`]), header names case-insensitively ([`Case::Insensitive`], ASCII
//! case folding: header names are ASCII tokens).
//!
//! S3 rejects patterns with more than one `*`, so the validated model never holds them;
//! for robustness, [`matches()`] still treats every `*` as a wildcard (ordinary glob
//! matching), and [`pattern_covers`] stays sound (never claims a coverage that does not
//! hold) but may answer `false` where coverage holds when the covering pattern has more
//! than one `*`.

use std::borrow::Cow;

/// Whether letter case matters when comparing a pattern with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Exact comparison: `AllowedOrigins` against `Origin`.
    Sensitive,
    /// ASCII case-insensitive comparison: `AllowedHeaders` against requested header names.
    Insensitive,
}

/// How many `*` wildcards `pattern` holds (S3 accepts at most one).
pub fn wildcard_count(pattern: &str) -> usize {
    pattern.matches('*').count()
}

/// Does `pattern` match `value`? See the module docs for the wildcard rule.
pub fn matches(pattern: &str, value: &str, case: Case) -> bool {
    glob_match(&fold(pattern, case), &fold(value, case))
}

/// `origin` is matched by the `AllowedOrigin` `pattern` (case-sensitive).
///
/// An empty `AllowedOrigin` (S3 accepts it) matches nothing, not even an empty
/// `Origin` header.
pub fn origin_matches(pattern: &str, origin: &str) -> bool {
    !pattern.is_empty() && matches(pattern, origin, Case::Sensitive)
}

/// The requested header `name` is matched by the `AllowedHeader` `pattern` (ASCII
/// case-insensitive).
pub fn header_matches(pattern: &str, name: &str) -> bool {
    matches(pattern, name, Case::Insensitive)
}

/// Does pattern `a` cover pattern `b`: is every string matched by `b` also matched by `a`?
///
/// Exact when both patterns hold at most one `*` (the only patterns S3 accepts), over
/// any alphabet of at least two characters. With `*` matching the empty string
/// (module docs), writing `a = Q*R` and `b = P*S`:
/// - `b` literal: `a` covers `b` iff `a` matches the string `b`;
/// - `a` literal, `b` wildcard: never (`b` matches infinitely many strings);
/// - both wildcards: iff `Q` is a prefix of `P` and `R` is a suffix of `S`.
///
/// Proof of the last case. If `Q ⊑ P` and `R ⊒ S`, every `PxS` starts with `Q`, ends with
/// `R` and is at least `|P|+|S| >= |Q|+|R|` long. Conversely, if `Q` is not a prefix of
/// `P`: either `|Q| <= |P|` and they differ, so no `PxS` starts with `Q`; or `|Q| > |P|`,
/// and choosing a one-character `x` different from `Q[|P|]` gives a `PxS` that does not
/// start with `Q`. Symmetrically for `R` and `S`.
///
/// The same prefix/suffix rule is exact when `b` has several `*` (`P` is then the text
/// before its first `*` and `S` the text after its last). When `a` has several `*`,
/// the answer is `true` only if `a` matches `b` literally, `a` is identical to `b`
/// (after case folding), or coverage follows from the rules above: sound, not complete.
pub fn pattern_covers(a: &str, b: &str, case: Case) -> bool {
    let a = fold(a, case);
    let b = fold(b, case);
    match (shape(&a), shape(&b)) {
        (_, Shape::Literal(s)) => glob_match(&a, s),
        (Shape::Literal(_), _) => false,
        (
            Shape::Wild {
                prefix: q,
                suffix: r,
            },
            Shape::Wild {
                prefix: p,
                suffix: s,
            },
        )
        | (
            Shape::Wild {
                prefix: q,
                suffix: r,
            },
            Shape::Multi { first: p, last: s },
        ) => p.starts_with(q) && s.ends_with(r),
        (Shape::Multi { .. }, _) => a == b,
    }
}

/// Is every string matched by `b` matched by at least one of `covering`?
///
/// Over an unbounded alphabet (origins and header names are arbitrary strings), a
/// finite union of patterns with at most one `*` covers `b` **iff a single one of them
/// does**, so this is `covering.any(|a| pattern_covers(a, b))` and exact under the same
/// conditions as [`pattern_covers`].
///
/// Proof. A literal `b` is one string: covered iff some pattern matches it. For
/// `b = P*S` with no single cover, take a character `z` used by no pattern and `N`
/// longer than every pattern; `w = P z^N S` is matched by `b` but by no literal (too
/// long) and by no wildcard `Q*R` that does not cover `b`: if `Q` is not a prefix of
/// `P`, then either `|Q| <= |P|` and `w` does not start with `Q`, or `Q[|P|]` would have
/// to be `z`, which no pattern holds; symmetrically for `R`. (Over a *finite* alphabet a
/// union can cover more, e.g. `""`, `a*` and `b*` cover `*` over `{a, b}`; that is why
/// the tests enumerate strings with a character no pattern uses.)
pub fn union_covers<'a>(covering: impl IntoIterator<Item = &'a str>, b: &str, case: Case) -> bool {
    covering.into_iter().any(|a| pattern_covers(a, b, case))
}

/// The pattern or value in the form it is compared in.
fn fold(s: &str, case: Case) -> Cow<'_, str> {
    match case {
        Case::Insensitive if s.bytes().any(|c| c.is_ascii_uppercase()) => {
            Cow::Owned(s.to_ascii_lowercase())
        }
        _ => Cow::Borrowed(s),
    }
}

/// A pattern split at its wildcards.
enum Shape<'a> {
    /// No `*`.
    Literal(&'a str),
    /// Exactly one `*`.
    Wild { prefix: &'a str, suffix: &'a str },
    /// Two or more `*` (S3 rejects these): the text before the first and after the last.
    Multi { first: &'a str, last: &'a str },
}

fn shape(p: &str) -> Shape<'_> {
    match (p.find('*'), p.rfind('*')) {
        (Some(i), Some(k)) if i == k => Shape::Wild {
            prefix: &p[..i],
            suffix: &p[i + 1..],
        },
        (Some(i), Some(k)) => Shape::Multi {
            first: &p[..i],
            last: &p[k + 1..],
        },
        _ => Shape::Literal(p),
    }
}

/// Glob matching where every `*` matches any string, the empty one included.
fn glob_match(pattern: &str, value: &str) -> bool {
    let segments: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match segments.split_first() {
        Some((first, rest)) if !rest.is_empty() => (*first, rest),
        _ => return pattern == value,
    };
    let (last, middle) = match rest.split_last() {
        Some((last, middle)) => (*last, middle),
        None => return pattern == value,
    };
    if value.len() < first.len() + last.len() || !value.starts_with(first) || !value.ends_with(last)
    {
        return false;
    }
    // Both bounds fall on char boundaries: they end `first` and start `last`, which
    // `value` starts and ends with, and they do not cross (length checked above).
    let mut rest = &value[first.len()..value.len() - last.len()];
    for segment in middle {
        // Leftmost match is optimal for `*`-only globs: it leaves the most room after.
        match rest.find(segment) {
            Some(at) => rest = &rest[at + segment.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string over `alphabet` of length at most `max_len`, shortest first.
    fn strings(alphabet: &[char], max_len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..max_len {
            let next: Vec<String> = frontier
                .iter()
                .flat_map(|s| {
                    alphabet.iter().map(move |c| {
                        let mut t = s.clone();
                        t.push(*c);
                        t
                    })
                })
                .collect();
            all.extend(next.iter().cloned());
            frontier = next;
        }
        all
    }

    /// Every pattern over `alphabet` plus `*`, of length at most `max_len`, with at most
    /// `max_stars` wildcards.
    fn patterns(alphabet: &[char], max_len: usize, max_stars: usize) -> Vec<String> {
        let mut with_star = alphabet.to_vec();
        with_star.push('*');
        strings(&with_star, max_len)
            .into_iter()
            .filter(|p| wildcard_count(p) <= max_stars)
            .collect()
    }

    /// Reference matcher: the sentence of docs/s3-cors-semantics.md, with `*` matching the empty string,
    /// and a naive recursive glob for several `*`.
    fn reference_match(pattern: &[char], value: &[char]) -> bool {
        match pattern.split_first() {
            None => value.is_empty(),
            Some(('*', rest)) => (0..=value.len()).any(|k| reference_match(rest, &value[k..])),
            Some((c, rest)) => value.first() == Some(c) && reference_match(rest, &value[1..]),
        }
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    /// The set of universe strings a pattern matches, as a bitset.
    fn language(pattern: &str, universe: &[String], case: Case) -> Vec<u64> {
        let mut bits = vec![0u64; universe.len().div_ceil(64)];
        for (k, s) in universe.iter().enumerate() {
            if matches(pattern, s, case) {
                bits[k / 64] |= 1 << (k % 64);
            }
        }
        bits
    }

    fn subset(a: &[u64], b: &[u64]) -> bool {
        a.iter().zip(b).all(|(x, y)| x & !y == 0)
    }

    fn union(sets: &[&[u64]]) -> Vec<u64> {
        let mut out = vec![0u64; sets.first().map_or(0, |s| s.len())];
        for set in sets {
            for (o, x) in out.iter_mut().zip(set.iter()) {
                *o |= x;
            }
        }
        out
    }

    #[test]
    fn matching_examples() {
        let cases: &[(&str, &str, Case, bool)] = &[
            ("*", "", Case::Sensitive, true),
            ("*", "https://a.com", Case::Sensitive, true),
            ("https://a.com", "https://a.com", Case::Sensitive, true),
            ("https://a.com", "https://a.com:443", Case::Sensitive, false),
            ("https://a.com", "https://a.com/", Case::Sensitive, false),
            ("https://a.com", "http://a.com", Case::Sensitive, false),
            ("https://a.com", "https://A.com", Case::Sensitive, false),
            (
                "https://*.example.com",
                "https://a.example.com",
                Case::Sensitive,
                true,
            ),
            (
                "https://*.example.com",
                "https://a.b.example.com",
                Case::Sensitive,
                true,
            ),
            (
                "https://*.example.com",
                "https://.example.com",
                Case::Sensitive,
                true,
            ),
            (
                "https://*.example.com",
                "https://example.com",
                Case::Sensitive,
                false,
            ),
            (
                "https://*.example.com",
                "http://a.example.com",
                Case::Sensitive,
                false,
            ),
            (
                "https://*example.com",
                "https://evilexample.com",
                Case::Sensitive,
                true,
            ),
            (
                "*.example.com",
                "https://a.example.com",
                Case::Sensitive,
                true,
            ),
            ("https://*", "https://", Case::Sensitive, true),
            (
                "https://a.com:*",
                "https://a.com:8443",
                Case::Sensitive,
                true,
            ),
            ("prefix*", "prefix", Case::Sensitive, true),
            ("ab*ba", "aba", Case::Sensitive, false),
            ("ab*ba", "abba", Case::Sensitive, true),
            ("x-amz-*", "X-Amz-Date", Case::Insensitive, true),
            ("X-AMZ-*", "x-amz-date", Case::Insensitive, true),
            ("Content-Type", "content-type", Case::Insensitive, true),
            ("Content-Type", "content-length", Case::Insensitive, false),
            ("Content-Type", "content-type", Case::Sensitive, false),
            ("é*", "é", Case::Sensitive, true),
            ("*é", "aé", Case::Sensitive, true),
        ];
        for (pattern, value, case, expected) in cases {
            assert_eq!(
                matches(pattern, value, *case),
                *expected,
                "matches({pattern:?}, {value:?}, {case:?})"
            );
        }
    }

    #[test]
    fn matching_agrees_with_reference_exhaustively() {
        let values = strings(&['a', 'b'], 6);
        for pattern in patterns(&['a', 'b'], 5, 3) {
            for value in &values {
                assert_eq!(
                    matches(&pattern, value, Case::Sensitive),
                    reference_match(&chars(&pattern), &chars(value)),
                    "{pattern:?} vs {value:?}"
                );
            }
        }
    }

    #[test]
    fn covers_examples() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "*", true),
            ("*", "https://a.com", true),
            ("*", "https://*.a.com", true),
            ("https://*.example.com", "https://a.example.com", true),
            ("https://*.example.com", "https://*.b.example.com", true),
            ("https://*.example.com", "https://*example.com", false),
            ("https://*.example.com", "*", false),
            ("https://*.example.com", "https://*", false),
            ("https://*", "https://*.example.com", true),
            ("https://a.com", "https://a.com", true),
            ("https://a.com", "https://b.com", false),
            ("https://a.com", "https://*", false),
            ("https://a.com", "*", false),
            ("a*", "ab*", true),
            ("a*", "*a", false),
            ("*a", "a*a", true),
            ("ab*", "a*b", false),
            ("a*", "a", true),
            ("a*b", "ab", true),
            ("a*b", "a", false),
            ("a*a", "a", false),
            ("a*", "a*b*c", true),
            ("a*c", "a*b*c", true),
            ("a*b*c", "a*b*c", true),
            ("**", "x", true),
        ];
        for (a, b, expected) in cases {
            assert_eq!(
                pattern_covers(a, b, Case::Sensitive),
                *expected,
                "pattern_covers({a:?}, {b:?})"
            );
        }
        assert!(pattern_covers("X-Amz-*", "x-amz-date", Case::Insensitive));
        assert!(pattern_covers("x-amz-*", "X-AMZ-META-*", Case::Insensitive));
        assert!(!pattern_covers("x-amz-*", "X-AMZ-META-*", Case::Sensitive));
    }

    /// `pattern_covers` against brute force: the languages of both patterns over every
    /// string of length <= 6 over {a, b, c}. Patterns are at most 4 characters, so any
    /// counterexample has length <= |P| + |S| + 1 <= 4 (see the proof).
    #[test]
    fn covers_agrees_with_enumeration() {
        let universe = strings(&['a', 'b', 'c'], 6);
        let pats = patterns(&['a', 'b'], 4, 1);
        let langs: Vec<Vec<u64>> = pats
            .iter()
            .map(|p| language(p, &universe, Case::Sensitive))
            .collect();
        for (a, la) in pats.iter().zip(&langs) {
            for (b, lb) in pats.iter().zip(&langs) {
                assert_eq!(
                    pattern_covers(a, b, Case::Sensitive),
                    subset(lb, la),
                    "pattern_covers({a:?}, {b:?})"
                );
            }
        }
    }

    /// Also exact over the two-letter alphabet itself (the proof needs only two letters).
    #[test]
    fn covers_agrees_with_enumeration_over_two_letters() {
        let universe = strings(&['a', 'b'], 7);
        let pats = patterns(&['a', 'b'], 5, 1);
        let langs: Vec<Vec<u64>> = pats
            .iter()
            .map(|p| language(p, &universe, Case::Sensitive))
            .collect();
        for (a, la) in pats.iter().zip(&langs) {
            for (b, lb) in pats.iter().zip(&langs) {
                assert_eq!(
                    pattern_covers(a, b, Case::Sensitive),
                    subset(lb, la),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    /// Case-insensitive coverage against enumeration over mixed-case strings.
    #[test]
    fn covers_case_insensitive_agrees_with_enumeration() {
        let universe = strings(&['a', 'A', 'b', 'B', 'c'], 5);
        let pats = patterns(&['a', 'A', 'b'], 3, 1);
        let langs: Vec<Vec<u64>> = pats
            .iter()
            .map(|p| language(p, &universe, Case::Insensitive))
            .collect();
        for (a, la) in pats.iter().zip(&langs) {
            for (b, lb) in pats.iter().zip(&langs) {
                assert_eq!(
                    pattern_covers(a, b, Case::Insensitive),
                    subset(lb, la),
                    "pattern_covers_ci({a:?}, {b:?})"
                );
            }
        }
    }

    /// Multi-`*` patterns (which S3 rejects): coverage is never claimed wrongly.
    #[test]
    fn covers_is_sound_for_several_wildcards() {
        let universe = strings(&['a', 'b', 'c'], 6);
        let pats = patterns(&['a', 'b'], 4, 3);
        let langs: Vec<Vec<u64>> = pats
            .iter()
            .map(|p| language(p, &universe, Case::Sensitive))
            .collect();
        for (a, la) in pats.iter().zip(&langs) {
            for (b, lb) in pats.iter().zip(&langs) {
                if pattern_covers(a, b, Case::Sensitive) {
                    assert!(subset(lb, la), "claimed {a:?} covers {b:?}");
                }
                if wildcard_count(a) <= 1 {
                    assert_eq!(
                        pattern_covers(a, b, Case::Sensitive),
                        subset(lb, la),
                        "{a:?} {b:?}"
                    );
                }
            }
        }
    }

    /// `union_covers` against enumeration, for every pair of covering patterns. The
    /// patterns use only {a, b}; the universe adds `c` (the fresh character of the
    /// proof) and is long enough to hold `P c^N S` with `N` longer than any literal.
    #[test]
    fn union_covers_agrees_with_enumeration() {
        let universe = strings(&['a', 'b', 'c'], 7);
        let pats = patterns(&['a', 'b'], 3, 1);
        let langs: Vec<Vec<u64>> = pats
            .iter()
            .map(|p| language(p, &universe, Case::Sensitive))
            .collect();
        for (x, lx) in pats.iter().zip(&langs) {
            for (y, ly) in pats.iter().zip(&langs) {
                let both = union(&[lx, ly]);
                for (b, lb) in pats.iter().zip(&langs) {
                    assert_eq!(
                        union_covers([x.as_str(), y.as_str()], b, Case::Sensitive),
                        subset(lb, &both),
                        "union_covers([{x:?}, {y:?}], {b:?})"
                    );
                }
            }
        }
        // Over {a, b} alone a union covers more: the reason for the fresh character.
        let small = strings(&['a', 'b'], 6);
        let cover = union(&[
            &language("", &small, Case::Sensitive),
            &language("a*", &small, Case::Sensitive),
            &language("b*", &small, Case::Sensitive),
        ]);
        assert!(subset(&language("*", &small, Case::Sensitive), &cover));
        assert!(!union_covers(["", "a*", "b*"], "*", Case::Sensitive));
    }
}
