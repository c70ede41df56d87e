//! Semantic comparison of CORS configurations and the digest of a live one.
//!
//! Two configurations are *equivalent* when S3 would answer every CORS request the
//! same way under both:
//!
//! - rule order is significant: S3 applies the first rule that matches;
//! - within a rule, the order of values does not matter, and neither do
//!   duplicates: each list is compared as a set, because S3 matches a request
//!   against "any value in the list" (the `duplicate-value` lint reports
//!   duplicates; they are never a reason to write);
//! - header names (`AllowedHeaders`, `ExposeHeaders`) compare ASCII
//!   case-insensitively, as HTTP header names do;
//! - origins, methods, `ID` and `MaxAgeSeconds` compare exactly (an absent
//!   `MaxAgeSeconds` is not `0`: browsers then use their own default);
//! - an absent list equals an empty one (the model already stores both as `[]`);
//! - no configuration (`None`) equals a configuration with no rules. S3 cannot
//!   store the latter; treating it as "none" keeps the plan from ever proposing
//!   to write an empty configuration.
//!
//! The [`digest`] is deliberately *not* semantic: it is a fingerprint of the exact
//! live configuration, for stale detection at apply time. See its docs for why.

use sha2::{Digest, Sha256};

use crate::model::{CorsConfig, CorsRule};

/// The canonical form of `config`: what [`equivalent`] compares.
///
/// Rules keep their order. Within each rule, header names are lower-cased
/// (ASCII), and every list is sorted and stripped of duplicates. The result is
/// meant for comparison, not for writing to S3: it loses the user's spelling.
pub fn normalize(config: &CorsConfig) -> CorsConfig {
    CorsConfig {
        cors_rules: config.cors_rules.iter().map(normalize_rule).collect(),
    }
}

fn normalize_rule(rule: &CorsRule) -> CorsRule {
    CorsRule {
        id: rule.id.clone(),
        allowed_headers: header_set(&rule.allowed_headers),
        allowed_methods: sorted_set(rule.allowed_methods.iter().copied()),
        allowed_origins: sorted_set(rule.allowed_origins.iter().cloned()),
        expose_headers: header_set(&rule.expose_headers),
        max_age_seconds: rule.max_age_seconds,
    }
}

fn header_set(headers: &[String]) -> Vec<String> {
    sorted_set(headers.iter().map(|h| h.to_ascii_lowercase()))
}

fn sorted_set<T: Ord>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut values: Vec<T> = values.collect();
    values.sort();
    values.dedup();
    values
}

/// Whether S3 would behave identically under `a` and `b` (see the module docs).
///
/// `None` means "no CORS configuration"; a configuration with no rules counts
/// as `None`.
pub fn equivalent(a: Option<&CorsConfig>, b: Option<&CorsConfig>) -> bool {
    match (non_empty(a), non_empty(b)) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.cors_rules.len() == b.cors_rules.len()
                && a.cors_rules
                    .iter()
                    .zip(&b.cors_rules)
                    .all(|(x, y)| normalize_rule(x) == normalize_rule(y))
        }
        _ => false,
    }
}

fn non_empty(config: Option<&CorsConfig>) -> Option<&CorsConfig> {
    config.filter(|c| !c.cors_rules.is_empty())
}

/// Domain-separation prefix of the digest input; bump the suffix if the
/// canonical encoding below ever changes (and bump the plan file version).
const DIGEST_DOMAIN: &str = "s3cors-live-cors-v1\n";

/// A fingerprint of the **exact** live configuration: `"sha256:<64 hex>"`.
///
/// `apply PLAN_FILE` re-reads each bucket and writes it only if this digest still
/// matches the one in the plan. The digest is over the exact configuration, not
/// the normalized one, on purpose:
///
/// - the plan's `before` is what `rollback` restores; if anyone touched the
///   bucket since the plan, even in a way that is semantically equal (reordered
///   values, re-cased headers), `before` no longer describes it and the plan is
///   stale. A false "stale" costs a re-plan; a missed one silently overwrites a
///   change nobody reviewed;
/// - it never depends on the comparison rules, so refining [`equivalent`] later
///   does not invalidate saved plans.
///
/// The input is a fixed canonical encoding owned by this module (every field
/// present, fixed key order, compact JSON, after a version prefix), so it does not
/// change if the model's serde attributes do. `None` has its own digest, so "no
/// configuration" is detected as changed when one appears.
pub fn digest(live: Option<&CorsConfig>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(DIGEST_DOMAIN.as_bytes());
    hasher.update(canonical_json(live).as_bytes());
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// `sha256:` and the lower-case hex SHA-256 of `bytes`: the form of every digest in
/// plan files and journals.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Whether `s` has the shape of a [`digest`]: `sha256:` and 64 lower-case hex digits.
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn canonical_json(live: Option<&CorsConfig>) -> String {
    #[derive(serde::Serialize)]
    struct Rule<'a> {
        id: Option<&'a str>,
        allowed_headers: &'a [String],
        allowed_methods: Vec<&'static str>,
        allowed_origins: &'a [String],
        expose_headers: &'a [String],
        max_age_seconds: Option<i32>,
    }
    let rules: Option<Vec<Rule<'_>>> = live.map(|config| {
        config
            .cors_rules
            .iter()
            .map(|r| Rule {
                id: r.id.as_deref(),
                allowed_headers: &r.allowed_headers,
                allowed_methods: r.allowed_methods.iter().map(|m| m.as_str()).collect(),
                allowed_origins: &r.allowed_origins,
                expose_headers: &r.expose_headers,
                max_age_seconds: r.max_age_seconds,
            })
            .collect()
    });
    // Plain structs of strings, integers and options cannot fail to serialise.
    serde_json::to_string(&rules).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::Method;

    fn rule(origins: &[&str], methods: &[Method]) -> CorsRule {
        CorsRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.to_vec(),
            ..CorsRule::default()
        }
    }

    fn config(rules: Vec<CorsRule>) -> CorsConfig {
        CorsConfig::new(rules)
    }

    fn with(mut r: CorsRule, f: impl FnOnce(&mut CorsRule)) -> CorsRule {
        f(&mut r);
        r
    }

    #[test]
    fn equivalence_table() {
        use Method::*;
        let base = with(
            rule(&["https://a.example", "https://b.example"], &[Get, Head]),
            |r| {
                r.allowed_headers = vec!["Content-Type".into(), "Authorization".into()];
                r.expose_headers = vec!["ETag".into()];
                r.max_age_seconds = Some(3600);
                r.id = Some("web".into());
            },
        );
        let other = rule(&["*"], &[Get]);
        // (description, a, b, expected)
        let cases: Vec<(&str, Option<CorsConfig>, Option<CorsConfig>, bool)> = vec![
            ("both none", None, None, true),
            ("none vs empty rules", None, Some(config(vec![])), true),
            (
                "none vs some",
                None,
                Some(config(vec![base.clone()])),
                false,
            ),
            (
                "identical",
                Some(config(vec![base.clone()])),
                Some(config(vec![base.clone()])),
                true,
            ),
            (
                "origins reordered",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.allowed_origins.reverse()
                })])),
                true,
            ),
            (
                "methods reordered",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.allowed_methods = vec![Head, Get]
                })])),
                true,
            ),
            (
                "header case and order",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.allowed_headers = vec!["authorization".into(), "CONTENT-TYPE".into()];
                    r.expose_headers = vec!["etag".into()];
                })])),
                true,
            ),
            (
                "duplicate values",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.allowed_methods.push(Get);
                    r.allowed_origins.push("https://a.example".into());
                })])),
                true,
            ),
            (
                "origin case",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.allowed_origins[0] = "https://A.example".into()
                })])),
                false,
            ),
            (
                "extra method",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.allowed_methods.push(Put)
                })])),
                false,
            ),
            (
                "id differs",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.id = Some("Web".into())
                })])),
                false,
            ),
            (
                "id absent",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| r.id = None)])),
                false,
            ),
            (
                "max age absent is not zero",
                Some(config(vec![with(base.clone(), |r| {
                    r.max_age_seconds = None
                })])),
                Some(config(vec![with(base.clone(), |r| {
                    r.max_age_seconds = Some(0)
                })])),
                false,
            ),
            (
                "header removed",
                Some(config(vec![base.clone()])),
                Some(config(vec![with(base.clone(), |r| {
                    r.allowed_headers.pop();
                })])),
                false,
            ),
            (
                "rule order",
                Some(config(vec![base.clone(), other.clone()])),
                Some(config(vec![other.clone(), base.clone()])),
                false,
            ),
            (
                "extra rule",
                Some(config(vec![base.clone()])),
                Some(config(vec![base.clone(), other.clone()])),
                false,
            ),
        ];
        for (what, a, b, expected) in cases {
            assert_eq!(
                equivalent(a.as_ref(), b.as_ref()),
                expected,
                "{what}: a ~ b"
            );
            assert_eq!(
                equivalent(b.as_ref(), a.as_ref()),
                expected,
                "{what}: b ~ a"
            );
        }
    }

    #[test]
    fn normalize_is_canonical() {
        let r = with(
            rule(
                &["https://b", "https://a", "https://b"],
                &[Method::Put, Method::Get],
            ),
            |r| {
                r.allowed_headers = vec!["X-B".into(), "x-a".into(), "x-b".into()];
                r.expose_headers = vec!["ETag".into()];
            },
        );
        let n = normalize(&config(vec![r]));
        let expected = with(
            rule(&["https://a", "https://b"], &[Method::Get, Method::Put]),
            |r| {
                r.allowed_headers = vec!["x-a".into(), "x-b".into()];
                r.expose_headers = vec!["etag".into()];
            },
        );
        assert_eq!(n, config(vec![expected]));
        assert_eq!(normalize(&n), n, "normalize is idempotent");
    }

    #[test]
    fn digest_is_exact() {
        let a = config(vec![rule(&["https://a", "https://b"], &[Method::Get])]);
        let reordered = config(vec![rule(&["https://b", "https://a"], &[Method::Get])]);
        let d = digest(Some(&a));
        assert!(is_digest(&d), "{d}");
        assert_eq!(d, digest(Some(&a.clone())), "deterministic");
        assert_ne!(d, digest(Some(&reordered)), "order changes the digest");
        assert_ne!(d, digest(None));
        assert_ne!(digest(None), digest(Some(&config(vec![]))));
        // Pinned: changing this value breaks every saved plan file.
        assert_eq!(
            digest(None),
            "sha256:44a6f80f0e3d37991952f25234fbcb524da08c70d847c99a1ab9859dca348d80"
        );
    }

    #[test]
    fn is_digest_shapes() {
        let cases = [
            (digest(None), true),
            ("sha256:".to_string(), false),
            (format!("sha256:{}", "A".repeat(64)), false),
            (format!("sha1:{}", "a".repeat(64)), false),
            (format!("sha256:{}", "0".repeat(64)), true),
        ];
        for (s, expected) in cases {
            assert_eq!(is_digest(&s), expected, "{s}");
        }
    }

    fn arb_method() -> impl Strategy<Value = Method> {
        prop::sample::select(Method::ALL.to_vec())
    }

    fn arb_rule() -> impl Strategy<Value = CorsRule> {
        (
            prop::option::of("[a-z]{1,6}"),
            prop::collection::vec("[A-Za-z][A-Za-z-]{0,8}", 0..4),
            prop::collection::vec(arb_method(), 1..4),
            prop::collection::vec("https://[a-z]{1,6}\\.example", 1..4),
            prop::collection::vec("[A-Za-z][A-Za-z-]{0,8}", 0..3),
            prop::option::of(0..100_000i32),
        )
            .prop_map(|(id, ah, am, ao, eh, max)| CorsRule {
                id,
                allowed_headers: ah,
                allowed_methods: am,
                allowed_origins: ao,
                expose_headers: eh,
                max_age_seconds: max,
            })
    }

    fn arb_config() -> impl Strategy<Value = CorsConfig> {
        prop::collection::vec(arb_rule(), 1..6).prop_map(CorsConfig::new)
    }

    /// Flip the ASCII case of every letter for which `flips` says so.
    fn recase(s: &str, seed: u64) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if seed.rotate_left(i as u32) & 1 == 1 {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                } else {
                    c
                }
            })
            .collect()
    }

    fn shuffle<T>(v: &mut [T], seed: u64) {
        // A deterministic Fisher-Yates driven by the proptest-chosen seed.
        let mut state = seed | 1;
        for i in (1..v.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            v.swap(i, (state % (i as u64 + 1)) as usize);
        }
    }

    proptest! {
        #[test]
        fn reordered_and_recased_is_equivalent(c in arb_config(), seed in any::<u64>()) {
            let mut copy = c.clone();
            for (i, r) in copy.cors_rules.iter_mut().enumerate() {
                let s = seed.wrapping_add(i as u64 * 7919);
                shuffle(&mut r.allowed_headers, s);
                shuffle(&mut r.allowed_methods, s ^ 1);
                shuffle(&mut r.allowed_origins, s ^ 2);
                shuffle(&mut r.expose_headers, s ^ 3);
                r.allowed_headers = r.allowed_headers.iter().map(|h| recase(h, s)).collect();
                r.expose_headers = r.expose_headers.iter().map(|h| recase(h, !s)).collect();
            }
            prop_assert!(equivalent(Some(&c), Some(&copy)));
            prop_assert_eq!(normalize(&c), normalize(&copy));
        }

        #[test]
        fn changed_rule_order_is_not_equivalent(c in arb_config(), i in any::<prop::sample::Index>(), j in any::<prop::sample::Index>()) {
            let (i, j) = (i.index(c.cors_rules.len()), j.index(c.cors_rules.len()));
            let mut copy = c.clone();
            copy.cors_rules.swap(i, j);
            let same = normalize_rule(&c.cors_rules[i]) == normalize_rule(&c.cors_rules[j]);
            prop_assert_eq!(equivalent(Some(&c), Some(&copy)), same);
        }

        #[test]
        fn recased_origin_is_not_equivalent(c in arb_config(), r in any::<prop::sample::Index>(), o in any::<prop::sample::Index>()) {
            let mut copy = c.clone();
            let rule = &mut copy.cors_rules[r.index(c.cors_rules.len())];
            let k = o.index(rule.allowed_origins.len());
            let upper = rule.allowed_origins[k].to_ascii_uppercase();
            // Replace every occurrence, so a duplicate cannot keep the old value in the set.
            let old = std::mem::replace(&mut rule.allowed_origins[k], upper.clone());
            for v in rule.allowed_origins.iter_mut() {
                if *v == old {
                    *v = upper.clone();
                }
            }
            prop_assert!(!equivalent(Some(&c), Some(&copy)));
        }

        #[test]
        fn digest_changes_with_any_change(c in arb_config(), seed in any::<u64>()) {
            let mut copy = c.clone();
            let n = copy.cors_rules.len();
            let rule = &mut copy.cors_rules[(seed as usize) % n];
            rule.allowed_origins.push("https://added.example".into());
            prop_assert_ne!(digest(Some(&c)), digest(Some(&copy)));
        }
    }
}
