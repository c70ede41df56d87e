//! `watch --reconcile`'s choice of what to write in one cycle: the plan's
//! changes, without the buckets whose entry says `reconcile: false`, at most
//! `cap` of them, taken in name order starting after the last bucket the
//! previous cycle chose (so a bucket that fails every time cannot keep the
//! others waiting forever). The rest wait for the next cycle.
//!
//! Pure: `app::watch` writes the chosen plan with `apply`'s executor.

use std::collections::BTreeSet;

use super::Plan;

/// What one cycle writes, and what it leaves.
#[derive(Debug, Default)]
pub struct Selection {
    /// The changes to write now (no unchanged buckets, no plan errors).
    pub plan: Plan,
    /// Drifted buckets whose entry says `reconcile: false`: never written.
    pub held: Vec<String>,
    /// Drifted buckets over the cap: written in a later cycle.
    pub deferred: Vec<String>,
}

/// Chooses from `plan` (sorted by bucket name, as [`super::plan`] makes it)
/// the changes to write: never one in `hold`, at most `cap`, the first after
/// `after` (the last bucket chosen before) in name order, wrapping around.
pub fn select(plan: Plan, hold: &BTreeSet<String>, after: Option<&str>, cap: usize) -> Selection {
    let mut out = Selection::default();
    let (mut changes, _unchanged): (Vec<_>, Vec<_>) =
        plan.buckets.into_iter().partition(|b| b.action.is_change());
    changes.retain(|b| {
        let held = hold.contains(&b.bucket);
        if held {
            out.held.push(b.bucket.clone());
        }
        !held
    });
    changes.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    // Those after the cursor first, then from the start.
    let split = after.map_or(0, |last| {
        changes.partition_point(|b| b.bucket.as_str() <= last)
    });
    changes.rotate_left(split);
    for b in changes {
        if out.plan.buckets.len() < cap {
            out.plan.buckets.push(b);
        } else {
            out.deferred.push(b.bucket);
        }
    }
    out.plan.buckets.sort_by(|a, b| a.bucket.cmp(&b.bucket));
    out.deferred.sort();
    out
}

/// The cursor for the next cycle: the last bucket chosen, in the rotated order
/// [`select`] used (the largest name at or before the wrap, else the largest).
pub fn cursor(selection: &Selection, after: Option<&str>) -> Option<String> {
    let names = selection.plan.buckets.iter().map(|b| b.bucket.as_str());
    let wrapped = after.and_then(|last| names.clone().filter(|n| *n <= last).max());
    wrapped.or_else(|| names.max()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cors::fixtures::rule;
    use crate::model::CorsConfig;
    use crate::plan::compare::digest;
    use crate::plan::{Action, BucketPlan};

    fn bucket(name: &str, changed: bool) -> BucketPlan {
        let want = CorsConfig::new(vec![rule(&["GET"], &["https://a.example"], &[])]);
        let before =
            changed.then(|| CorsConfig::new(vec![rule(&["GET"], &["https://b.example"], &[])]));
        let before = before.or_else(|| Some(want.clone()));
        BucketPlan {
            bucket: name.to_owned(),
            source: "p.yaml:3".to_owned(),
            action: Action::decide(before.as_ref(), Some(&want)),
            live_digest: digest(before.as_ref()),
            before,
            after: Some(std::sync::Arc::new(want)),
            region: None,
            account: None,
            access: Default::default(),
        }
    }

    fn plan(buckets: &[(&str, bool)]) -> Plan {
        Plan {
            buckets: buckets.iter().map(|(n, c)| bucket(n, *c)).collect(),
            ..Plan::default()
        }
    }

    fn names(s: &Selection) -> Vec<&str> {
        s.plan.buckets.iter().map(|b| b.bucket.as_str()).collect()
    }

    #[test]
    fn chooses_changes_only_never_held_ones_and_at_most_the_cap() {
        let p = plan(&[
            ("a", true),
            ("b", false),
            ("c", true),
            ("d", true),
            ("e", true),
        ]);
        let hold: BTreeSet<String> = ["c".to_owned()].into();
        let s = select(p, &hold, None, 2);
        assert_eq!(names(&s), ["a", "d"]);
        assert_eq!(s.held, ["c"]);
        assert_eq!(s.deferred, ["e"]);
    }

    #[test]
    fn a_cap_of_zero_writes_nothing() {
        let s = select(plan(&[("a", true), ("b", true)]), &BTreeSet::new(), None, 0);
        assert!(s.plan.buckets.is_empty());
        assert_eq!(s.deferred, ["a", "b"]);
    }

    #[test]
    fn the_cursor_rotates_so_every_bucket_gets_its_turn() {
        let all = [("a", true), ("b", true), ("c", true)];
        let mut after: Option<String> = None;
        let mut seen = Vec::new();
        for _ in 0..4 {
            let s = select(plan(&all), &BTreeSet::new(), after.as_deref(), 2);
            seen.push(names(&s).join(","));
            after = cursor(&s, after.as_deref());
        }
        // a,b; then c and (wrapping) a; then b,c; then a,b again.
        assert_eq!(seen, ["a,b", "a,c", "b,c", "a,b"]);
    }

    #[test]
    fn a_cursor_past_every_name_starts_again_from_the_first() {
        let s = select(
            plan(&[("a", true), ("b", true)]),
            &BTreeSet::new(),
            Some("z"),
            1,
        );
        assert_eq!(names(&s), ["a"]);
        assert_eq!(s.deferred, ["b"]);
    }
}
