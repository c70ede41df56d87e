//! What the renderers of plans, apply results and drift share to stay readable
//! at fleet size: counts with thousands separators, counts per account and per
//! policy entry ([`Breakdown`]), exact grouping of identical items ([`group`]),
//! and bucket-name lists folded to a few names ([`fold_names`]). Pure.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::text::{markdown_safe, terminal_safe};

/// How an absent `account` (the credentials' own account) is shown.
pub const DEFAULT_ACCOUNT: &str = "(default account)";

/// How many rows of each [`Breakdown`] table are shown unless `-v`.
pub const BREAKDOWN_ROWS: usize = 10;

/// How many items of a folded name list are shown unless `-v`.
pub const NAMES_SHOWN: usize = 5;

/// `n` with thousands separators: `3,000`, `100,000`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 bucket`, `3,000 buckets`.
pub fn buckets(n: usize) -> String {
    if n == 1 {
        "1 bucket".to_owned()
    } else {
        format!("{} buckets", count(n))
    }
}

/// The account as shown: the ID, or [`DEFAULT_ACCOUNT`].
pub fn account_label(account: Option<&str>) -> &str {
    account.unwrap_or(DEFAULT_ACCOUNT)
}

/// One row of a [`Breakdown`] table: its label and its counts per column.
type Row<'a> = (&'a str, &'a [usize]);

/// A column of a [`Breakdown`]: its words for people (`to create`) and its key
/// in JSON reports (`create`).
pub type Column = (&'static str, &'static str);

/// Counts per account and per policy entry (`file:line`), in named columns
/// (`to create`, `updated`, `drifted`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown<'a> {
    columns: &'static [Column],
    /// Borrowed from the report counted: at 100,000 entries a copy of each
    /// `file:line` would cost more than the counts.
    by_account: BTreeMap<Option<&'a str>, Vec<usize>>,
    by_entry: BTreeMap<&'a str, Vec<usize>>,
}

/// One account's counts in a JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCounts {
    /// The account; `null` for the default account (the credentials' own).
    pub account: Option<String>,
    /// Buckets per column (the keys of the report's `summary`).
    pub counts: BTreeMap<String, usize>,
}

/// One policy entry's counts in a JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryCounts {
    /// The entry, `file:line` (empty for a bucket no entry could be named for).
    pub source: String,
    /// Buckets per column (the keys of the report's `summary`).
    pub counts: BTreeMap<String, usize>,
}

impl<'a> Breakdown<'a> {
    /// An empty breakdown with these columns.
    pub fn new(columns: &'static [Column]) -> Breakdown<'a> {
        Breakdown {
            columns,
            by_account: BTreeMap::new(),
            by_entry: BTreeMap::new(),
        }
    }

    fn json_counts(&self, counts: &[usize]) -> BTreeMap<String, usize> {
        self.columns
            .iter()
            .zip(counts)
            .map(|((_, key), n)| ((*key).to_owned(), *n))
            .collect()
    }

    /// The counts per account for a JSON report, by account (default first).
    pub fn json_accounts(&self) -> Vec<AccountCounts> {
        self.by_account
            .iter()
            .map(|(account, counts)| AccountCounts {
                account: account.map(str::to_owned),
                counts: self.json_counts(counts),
            })
            .collect()
    }

    /// The counts per policy entry for a JSON report, by entry.
    pub fn json_entries(&self) -> Vec<EntryCounts> {
        self.by_entry
            .iter()
            .map(|(source, counts)| EntryCounts {
                source: (*source).to_owned(),
                counts: self.json_counts(counts),
            })
            .collect()
    }

    /// Counts one bucket in `column` of its account's and its entry's rows.
    pub fn add(&mut self, account: Option<&'a str>, entry: &'a str, column: usize) {
        self.add_account(account, column);
        self.add_entry(entry, column);
    }

    /// Counts one bucket in its account's row only.
    pub fn add_account(&mut self, account: Option<&'a str>, column: usize) {
        let width = self.columns.len();
        self.by_account
            .entry(account)
            .or_insert_with(|| vec![0; width])[column] += 1;
    }

    /// Counts one bucket in its entry's row only (a bucket whose account is
    /// not known, such as one that could not be planned).
    pub fn add_entry(&mut self, entry: &'a str, column: usize) {
        let width = self.columns.len();
        self.by_entry.entry(entry).or_insert_with(|| vec![0; width])[column] += 1;
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.by_entry.is_empty() && self.by_account.is_empty()
    }

    /// `(title, rows)` for accounts then entries; rows biggest first, then by name.
    fn tables(&self) -> [(&'static str, Vec<Row<'_>>); 2] {
        let accounts = self
            .by_account
            .iter()
            .map(|(k, v)| (account_label(*k), v.as_slice()));
        let entries = self.by_entry.iter().map(|(k, v)| {
            let label = if k.is_empty() {
                "(no policy entry)"
            } else {
                *k
            };
            (label, v.as_slice())
        });
        [
            ("By account", sorted_rows(accounts)),
            ("By policy entry", sorted_rows(entries)),
        ]
    }

    /// `3,000 to update, 2 unchanged`: the non-zero columns.
    fn counts_text(&self, counts: &[usize]) -> String {
        let parts: Vec<String> = self
            .columns
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > 0)
            .map(|((name, _), n)| format!("{} {name}", count(*n)))
            .collect();
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// The sum of hidden rows, as one `… and N more` line's counts.
    fn rest(&self, rows: &[Row<'_>]) -> Vec<usize> {
        let mut sum = vec![0; self.columns.len()];
        for (_, counts) in rows {
            for (s, n) in sum.iter_mut().zip(counts.iter()) {
                *s += n;
            }
        }
        sum
    }

    /// For people: a `By account:` and a `By policy entry:` list, each at most
    /// `limit` rows and a line counting the rest; all rows with `limit: None`.
    pub fn human(&self, limit: Option<usize>) -> String {
        let mut out = String::new();
        for (title, rows) in self.tables() {
            if rows.is_empty() {
                continue;
            }
            out.push_str(title);
            out.push_str(":\n");
            let shown = limit.unwrap_or(usize::MAX).min(rows.len());
            for (label, counts) in &rows[..shown] {
                out.push_str(&format!(
                    "  {}: {}\n",
                    terminal_safe(label),
                    self.counts_text(counts)
                ));
            }
            if shown < rows.len() {
                let hidden = &rows[shown..];
                out.push_str(&format!(
                    "  and {} more: {} (-v lists them all)\n",
                    count(hidden.len()),
                    self.counts_text(&self.rest(hidden))
                ));
            }
        }
        out
    }

    /// For a comment: the same lists as markdown bullets, at most `limit` rows each.
    pub fn markdown(&self, limit: Option<usize>) -> String {
        let mut out = String::new();
        for (title, rows) in self.tables() {
            if rows.is_empty() {
                continue;
            }
            out.push_str(&format!("**{title}**\n\n"));
            let shown = limit.unwrap_or(usize::MAX).min(rows.len());
            for (label, counts) in &rows[..shown] {
                out.push_str(&format!(
                    "- <code>{}</code>: {}\n",
                    markdown_safe(label),
                    self.counts_text(counts)
                ));
            }
            if shown < rows.len() {
                let hidden = &rows[shown..];
                out.push_str(&format!(
                    "- _and {} more not shown: {}_\n",
                    count(hidden.len()),
                    self.counts_text(&self.rest(hidden))
                ));
            }
            out.push('\n');
        }
        out
    }
}

/// The rows of one table, biggest total first, then by label, a `file:line`
/// label by file and then line number (`web.yaml:4` before `web.yaml:12`).
fn sorted_rows<'a>(rows: impl Iterator<Item = Row<'a>>) -> Vec<Row<'a>> {
    let mut rows: Vec<Row<'a>> = rows.collect();
    // Keys borrowed, not cached: 100,000 rows sort without a copy of each label.
    let key = |(label, counts): &Row<'a>| {
        let (file, line) = match label.rsplit_once(':') {
            Some((file, line)) => (file, line.parse::<u64>().ok()),
            None => (*label, None),
        };
        (
            std::cmp::Reverse(counts.iter().sum::<usize>()),
            file,
            line,
            *label,
        )
    };
    rows.sort_by(|a, b| key(a).cmp(&key(b)));
    rows
}

/// Groups `items` by exact equality of `key(item)`: each group lists the indices
/// of its members in input order, and groups come in the order of their first
/// member. `digest` must be equal for equal keys (it only speeds the search
/// up): members are compared with `==` on the keys themselves, so two items
/// share a group only if their keys are equal.
pub fn group<'a, T, K: PartialEq, D: Hash + Eq>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
    digest: impl Fn(&'a T) -> D,
) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_digest: HashMap<D, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let candidates = by_digest.entry(digest(item)).or_default();
        let k = key(item);
        match candidates.iter().find(|&&g| key(&items[groups[g][0]]) == k) {
            Some(&g) => groups[g].push(i),
            None => {
                candidates.push(groups.len());
                groups.push(vec![i]);
            }
        }
    }
    groups
}

/// One item of a folded name list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Folded<'a> {
    /// One bucket.
    Name(&'a str),
    /// A run of 3 or more names that differ only in a number of the same width
    /// at their end, consecutive: `logs-0001 … logs-3000`.
    Run {
        first: &'a str,
        last: &'a str,
        len: usize,
    },
}

impl Folded<'_> {
    fn len(&self) -> usize {
        match self {
            Folded::Name(_) => 1,
            Folded::Run { len, .. } => *len,
        }
    }
}

/// A name split into what precedes its trailing digits and their value and width.
fn numbered(name: &str) -> Option<(&str, u64, usize)> {
    let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &name[prefix.len()..];
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    Some((prefix, digits.parse().ok()?, digits.len()))
}

/// `names` (in their order) as at most `shown` items, with runs of consecutive
/// numbered names folded to one item; returns the items and how many names the
/// items left out cover. `shown: None` folds nothing and shows everything.
pub fn fold_names<'a>(names: &[&'a str], shown: Option<usize>) -> (Vec<Folded<'a>>, usize) {
    let Some(shown) = shown else {
        return (names.iter().map(|n| Folded::Name(n)).collect(), 0);
    };
    let mut items: Vec<Folded<'a>> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        let mut end = i + 1;
        if let Some((prefix, mut n, width)) = numbered(names[i]) {
            while end < names.len() {
                match numbered(names[end]) {
                    Some((p, m, w)) if p == prefix && w == width && Some(m) == n.checked_add(1) => {
                        n = m;
                        end += 1;
                    }
                    _ => break,
                }
            }
        }
        if end - i >= 3 {
            items.push(Folded::Run {
                first: names[i],
                last: names[end - 1],
                len: end - i,
            });
        } else {
            end = i + 1;
            items.push(Folded::Name(names[i]));
        }
        i = end;
    }
    let hidden: usize = items.iter().skip(shown).map(Folded::len).sum();
    items.truncate(shown);
    (items, hidden)
}

/// `a, b, logs-0001 … logs-3000 and 12 more`, terminal-safe.
pub fn names_human(names: &[&str], verbose: bool) -> String {
    let (items, hidden) = fold_names(names, (!verbose).then_some(NAMES_SHOWN));
    let mut parts: Vec<String> = items
        .iter()
        .map(|item| match item {
            Folded::Name(n) => terminal_safe(n).into_owned(),
            Folded::Run { first, last, .. } => {
                format!("{} … {}", terminal_safe(first), terminal_safe(last))
            }
        })
        .collect();
    if hidden > 0 {
        let last = parts.pop().unwrap_or_default();
        parts.push(format!("{last} and {} more", count(hidden)));
    }
    parts.join(", ")
}

/// The same list for markdown: names in `<code>`.
pub fn names_markdown(names: &[&str], verbose: bool) -> String {
    let (items, hidden) = fold_names(names, (!verbose).then_some(NAMES_SHOWN));
    let code = |n: &str| format!("<code>{}</code>", markdown_safe(n));
    let mut parts: Vec<String> = items
        .iter()
        .map(|item| match item {
            Folded::Name(n) => code(n),
            Folded::Run { first, last, .. } => format!("{} … {}", code(first), code(last)),
        })
        .collect();
    if hidden > 0 {
        let last = parts.pop().unwrap_or_default();
        parts.push(format!("{last} and {} more", count(hidden)));
    }
    parts.join(", ")
}

/// `(policies/a.yaml:3)` when every member has that entry, else `(N policy entries)`.
pub fn sources_note<'a>(sources: impl IntoIterator<Item = &'a str>) -> String {
    let mut distinct: Vec<&str> = sources.into_iter().collect();
    distinct.sort_unstable();
    distinct.dedup();
    match distinct.as_slice() {
        [one] => one.to_string(),
        many => format!("{} policy entries", count(many.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1_000, "1,000"),
            (3_000, "3,000"),
            (65_536, "65,536"),
            (100_000, "100,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(count(n), want);
        }
        assert_eq!(buckets(1), "1 bucket");
        assert_eq!(buckets(3000), "3,000 buckets");
    }

    #[test]
    fn folding_table() {
        let cases: &[(&[&str], Option<usize>, &str)] = &[
            (&[], Some(5), ""),
            (&["a"], Some(5), "a"),
            (&["a", "b", "c"], Some(5), "a, b, c"),
            (
                &["a", "b", "c", "d", "e", "f", "g"],
                Some(5),
                "a, b, c, d, e and 2 more",
            ),
            (
                &["a", "b", "c", "d", "e", "f", "g"],
                None,
                "a, b, c, d, e, f, g",
            ),
            // A run of three or more consecutive numbers folds.
            (
                &["logs-01", "logs-02", "logs-03"],
                Some(5),
                "logs-01 … logs-03",
            ),
            // Two do not: the marker would be no shorter.
            (&["logs-01", "logs-02"], Some(5), "logs-01, logs-02"),
            // A gap ends a run.
            (
                &["l-1", "l-2", "l-3", "l-5", "l-6", "l-7"],
                Some(5),
                "l-1 … l-3, l-5 … l-7",
            ),
            // Different widths or prefixes are not one run.
            (&["l-8", "l-9", "l-10"], Some(5), "l-8, l-9, l-10"),
            (&["a-1", "a-2", "b-3"], Some(5), "a-1, a-2, b-3"),
            // Names without digits, or only digits.
            (&["1", "2", "3"], Some(5), "1 … 3"),
            // Hidden items count the names they cover.
            (
                &[
                    "x", "y", "l-1", "l-2", "l-3", "z", "w", "v", "l-7", "l-8", "l-9",
                ],
                Some(4),
                "x, y, l-1 … l-3, z and 5 more",
            ),
        ];
        for (names, shown, want) in cases {
            assert_eq!(&render(names, *shown), want, "{names:?} {shown:?}");
        }
        assert_eq!(
            names_human(&["a", "b", "c", "d", "e", "f"], false),
            "a, b, c, d, e and 1 more"
        );
        assert_eq!(
            names_human(&["a", "b", "c", "d", "e", "f"], true),
            "a, b, c, d, e, f"
        );
        let many: Vec<String> = (1..=3000).map(|i| format!("logs-{i:04}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(names_human(&many, false), "logs-0001 … logs-3000");
        assert_eq!(
            names_markdown(&many, false),
            "<code>logs-0001</code> … <code>logs-3000</code>"
        );
    }

    /// The folded list as `names_human` writes it, for any `shown`.
    fn render(names: &[&str], shown: Option<usize>) -> String {
        let (items, hidden) = fold_names(names, shown);
        let mut text = items
            .iter()
            .map(|item| match item {
                Folded::Name(n) => n.to_string(),
                Folded::Run { first, last, .. } => format!("{first} … {last}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        if hidden > 0 {
            text.push_str(&format!(" and {hidden} more"));
        }
        text
    }

    #[test]
    fn grouping_is_exact() {
        // Keys that collide in the digest still form separate groups.
        let items = ["a1", "b1", "a1", "a2", "b1", "a1"];
        let groups = group(&items, |s| s.to_string(), |s| s.as_bytes()[0]);
        assert_eq!(groups, vec![vec![0, 2, 5], vec![1, 4], vec![3]]);
        let none: [&str; 0] = [];
        assert!(group(&none, |s| *s, |s| *s).is_empty());
    }

    #[test]
    fn breakdown_lists_biggest_first_and_counts_the_rest() {
        let ones: Vec<String> = (1..=12).map(|i| format!("policies/one.yaml:{i}")).collect();
        let mut b = Breakdown::new(&[("to create", "create"), ("to update", "update")]);
        for i in 0..3000 {
            b.add(None, "policies/logs.yaml:3", 1);
            if let Some(one) = ones.get(i) {
                b.add(Some("111122223333"), one, 0);
            }
        }
        b.add_entry("", 0);
        insta::assert_snapshot!(b.human(Some(3)));
        assert_eq!(b.human(None).lines().count(), 1 + 2 + 1 + 14);
        let md = b.markdown(Some(3));
        assert!(
            md.contains("- _and 11 more not shown: 11 to create_"),
            "{md}"
        );
    }
}
