//! The drift report as one self-contained HTML page (`drift --format html`, and
//! `watch --listen`'s `/`): inline CSS, no script, no external asset. A header
//! (policy digest, endpoint, time, shard), the counts per account with a bar
//! each, the buckets out of sync (drifted ones with the line diff of their
//! live and desired rules, grouped as [`super::human`] groups them), guardrail
//! violations, unresolved and unmanaged buckets, and for `watch` its last
//! checks. Every count sits in an element with stable `data-` attributes (the
//! JSON report's keys) so a program can read the page; every value from a
//! policy or from live state goes through [`html_safe`]. Bounded at fleet
//! size: at most [`ROWS`] rows per table. Pure.

use std::fmt::Write as _;
use std::time::Duration;

use super::{
    DriftReport, ManagedBucket, State, Verdict, breakdown, out_of_sync_groups, summary_line,
    unmanaged_groups, violation_groups,
};
use crate::plan::console::from_console;
use crate::plan::fleet::{self, count};
use crate::plan::render::{DiffLine, console_json, diff_lines};
use crate::text::html_safe;

/// At most this many rows (groups of buckets, violations, ...) per table; the
/// rest are counted.
pub const ROWS: usize = 500;

/// How many of `watch`'s last checks the page lists.
pub const CYCLES_SHOWN: usize = 20;

/// How one of `watch`'s checks ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleOutcome {
    InSync,
    Drifted,
    /// The check ran but found errors or guardrail violations (the verdict
    /// `Failed`), or could not run to its end (listing failed).
    Failed,
    /// No check ran: the policy files have errors and no earlier version was good.
    NoPolicies,
}

impl CycleOutcome {
    /// The stable label (`data-outcome`): `in_sync`, `drifted`, `failed`, `no_policies`.
    pub fn label(self) -> &'static str {
        match self {
            CycleOutcome::InSync => "in_sync",
            CycleOutcome::Drifted => "drifted",
            CycleOutcome::Failed => "failed",
            CycleOutcome::NoPolicies => "no_policies",
        }
    }

    fn words(self) -> &'static str {
        match self {
            CycleOutcome::InSync => "in sync",
            CycleOutcome::Drifted => "drifted",
            CycleOutcome::Failed => "failed",
            CycleOutcome::NoPolicies => "no usable policies",
        }
    }
}

impl From<Verdict> for CycleOutcome {
    fn from(v: Verdict) -> CycleOutcome {
        match v {
            Verdict::InSync => CycleOutcome::InSync,
            Verdict::Drifted => CycleOutcome::Drifted,
            Verdict::Failed => CycleOutcome::Failed,
        }
    }
}

/// One of `watch`'s checks, as its page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// When it started, RFC 3339.
    pub started: String,
    pub took: Duration,
    pub outcome: CycleOutcome,
}

/// What the page says besides the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page<'a> {
    /// When the report was made, RFC 3339.
    pub checked_at: &'a str,
    /// One row per bucket instead of groups of identical ones (`-v`).
    pub verbose: bool,
    /// `watch`'s last checks, newest first; `None` for `drift`.
    pub cycles: Option<&'a [Cycle]>,
    /// Ask the browser to reload the page every this many seconds.
    pub refresh_seconds: Option<u64>,
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 16px;color:#57606a}
dl.meta dt{font-weight:600}dl.meta dd{margin:0;word-break:break-all}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.v-in_sync{background:#dafbe1;border:1px solid #2da44e}.v-drifted{background:#fff8c5;border:1px solid #d4a72c}
.v-failed{background:#ffebe9;border:1px solid #cf222e}.v-pending{background:#ddf4ff;border:1px solid #54aeff}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:flex;height:14px;min-width:160px;border-radius:3px;overflow:hidden;background:#eaeef2}
.bar span{display:block;height:100%}
.s-in_sync{background:#2da44e}.s-drifted{background:#d4a72c}.s-missing{background:#cf222e}.s-errors{background:#6e7781}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}
section.bucket{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:10px 0;padding:8px 12px}
section.bucket h3{font-size:14px;margin:0 0 4px}
.badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;color:#fff;margin-right:6px}
.names{color:#57606a;margin:2px 0 6px;word-break:break-all}
pre.diff{background:#f6f8fa;padding:6px 8px;overflow-x:auto;margin:4px 0;font-size:12px}
pre.diff .del{color:#cf222e;background:#ffebe9;display:block}pre.diff .ins{color:#116329;background:#dafbe1;display:block}
pre.diff .fold{color:#57606a;display:block}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.more{color:#57606a;font-style:italic}
";

/// The page: `report` (`None` before `watch`'s first check is complete) and what
/// `page` adds.
pub fn html(report: Option<&DriftReport>, page: &Page<'_>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let title = match report {
        Some(r) => format!("s3cors drift: {}", summary_line(&r.summary(), false)),
        None => "s3cors watch: the first check is running".to_owned(),
    };
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing but the inline style may load or run, should a value ever slip
    // past the escaping.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    if let Some(s) = page.refresh_seconds {
        let _ = writeln!(out, "<meta http-equiv=\"refresh\" content=\"{s}\">");
    }
    let _ = writeln!(out, "<title>{}</title>", html_safe(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    match report {
        Some(report) => body(&mut out, report, page),
        None => {
            out.push_str("<h1>s3cors watch</h1>\n");
            let refresh = page.refresh_seconds.map_or(String::new(), |s| {
                format!(" This page reloads every {s} s.")
            });
            let _ = writeln!(
                out,
                "<p class=\"verdict v-pending\" id=\"pending\">The first drift check is running: \
                 no report yet.{refresh}</p>"
            );
        }
    }
    if let Some(cycles) = page.cycles {
        cycles_table(&mut out, cycles);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn body(out: &mut String, report: &DriftReport, page: &Page<'_>) {
    let heading = match report.context.shard {
        Some(shard) => format!("s3cors drift, shard {shard}"),
        None => "s3cors drift".to_owned(),
    };
    let _ = writeln!(out, "<h1>{}</h1>", html_safe(&heading));
    out.push_str("<dl class=\"meta\">\n");
    let _ = writeln!(
        out,
        "<dt>Checked at</dt><dd id=\"checked-at\">{}</dd>",
        html_safe(page.checked_at)
    );
    let _ = writeln!(
        out,
        "<dt>Endpoint</dt><dd id=\"endpoint\">{}</dd>",
        html_safe(&report.context.endpoint.without_userinfo().to_string())
    );
    let _ = writeln!(
        out,
        "<dt>Policy digest</dt><dd><code id=\"policy-digest\">{}</code></dd>",
        html_safe(&report.context.policy_digest)
    );
    out.push_str("</dl>\n");
    if let Some(last) = page.cycles.and_then(|c| c.first())
        && matches!(
            last.outcome,
            CycleOutcome::NoPolicies | CycleOutcome::Failed
        )
        && last.started.as_str() > page.checked_at
    {
        let _ = writeln!(
            out,
            "<p class=\"verdict v-failed\" id=\"last-check-failed\">The last check ({}, started {}) \
             did not complete; below is the last complete check's report.</p>",
            last.outcome.words(),
            html_safe(&last.started)
        );
    }

    let summary = report.summary();
    let verdict = match report.verdict() {
        Verdict::InSync => "in_sync",
        Verdict::Drifted => "drifted",
        Verdict::Failed => "failed",
    };
    let _ = writeln!(
        out,
        "<p class=\"verdict v-{verdict}\" id=\"verdict\" data-verdict=\"{verdict}\">{}</p>",
        html_safe(&summary_line(&summary, report.unmanaged.is_some()))
    );

    // The summary, with the JSON report's keys.
    out.push_str("<table id=\"summary\">\n<tr>");
    let mut keys: Vec<(&str, &str, usize)> = vec![
        ("in sync", "in_sync", summary.in_sync),
        ("drifted", "drifted", summary.drifted),
        ("missing", "missing", summary.missing),
        ("unreadable", "errors", summary.errors),
        ("unresolved", "unresolved", summary.unresolved),
        (
            "guardrail violations",
            "guardrail_violations",
            summary.guardrail_violations,
        ),
    ];
    if report.unmanaged.is_some() {
        keys.push((
            "unmanaged with CORS",
            "unmanaged_with_cors",
            summary.unmanaged_with_cors,
        ));
    }
    for (words, _, _) in &keys {
        let _ = write!(out, "<th>{words}</th>");
    }
    out.push_str("</tr>\n<tr>");
    for (_, key, n) in &keys {
        let _ = write!(
            out,
            "<td class=\"n\" data-summary=\"{key}\" data-value=\"{n}\">{}</td>",
            count(*n)
        );
    }
    out.push_str("</tr>\n</table>\n");

    accounts_table(out, report);
    out_of_sync(out, report, page.verbose);
    violations(out, report, page.verbose);
    unresolved(out, report);
    unmanaged(out, report, page.verbose);
}

/// The states, in the JSON report's keys and the words for people.
const STATES: [(&str, &str); 4] = [
    ("in_sync", "in sync"),
    ("drifted", "drifted"),
    ("missing", "missing"),
    ("errors", "unreadable"),
];

fn accounts_table(out: &mut String, report: &DriftReport) {
    let accounts = breakdown(report).json_accounts();
    out.push_str("<h2>Managed buckets per account</h2>\n");
    if accounts.is_empty() {
        out.push_str("<p>No managed bucket.</p>\n");
        return;
    }
    out.push_str("<p class=\"legend\">");
    for (key, words) in STATES {
        let _ = write!(out, "<span class=\"s-{key}\"></span>{words}");
    }
    out.push_str("</p>\n<table id=\"accounts\">\n<tr><th>account</th>");
    for (_, words) in STATES {
        let _ = write!(out, "<th>{words}</th>");
    }
    out.push_str("<th>total</th><th style=\"width:40%\">share</th></tr>\n");
    let shown = accounts.len().min(ROWS);
    for a in &accounts[..shown] {
        let id = html_safe(a.account.as_deref().unwrap_or(""));
        let label = html_safe(fleet::account_label(a.account.as_deref()));
        let total: usize = a.counts.values().sum();
        let _ = write!(
            out,
            "<tr data-account-row=\"{id}\"><td><code>{label}</code></td>"
        );
        for (key, _) in STATES {
            let n = a.counts.get(key).copied().unwrap_or(0);
            let _ = write!(
                out,
                "<td class=\"n\" data-account=\"{id}\" data-count=\"{key}\" data-value=\"{n}\">{}</td>",
                count(n)
            );
        }
        let _ = write!(
            out,
            "<td class=\"n\">{}</td><td><div class=\"bar\">",
            count(total)
        );
        for (key, words) in STATES {
            let n = a.counts.get(key).copied().unwrap_or(0);
            if n > 0 && total > 0 {
                // Widths in hundredths of a percent, so the parts add up.
                let width = n as f64 * 100.0 / total as f64;
                let _ = write!(
                    out,
                    "<span class=\"s-{key}\" style=\"width:{width:.2}%\" title=\"{} {words}\"></span>",
                    count(n)
                );
            }
        }
        out.push_str("</div></td></tr>\n");
    }
    out.push_str("</table>\n");
    more(out, accounts.len() - shown, "accounts");
}

fn more(out: &mut String, hidden: usize, what: &str) {
    if hidden > 0 {
        let _ = writeln!(
            out,
            "<p class=\"more\">{} more {what} are left out; the JSON report (<code>--format \
             json</code>) lists every one.</p>",
            count(hidden)
        );
    }
}

/// `a`, or `N buckets: a, b … c and N more`.
fn names_cell(names: &[&str]) -> String {
    match names {
        [one] => format!("<code>{}</code>", html_safe(one)),
        many => format!(
            "{}: {}",
            fleet::buckets(many.len()),
            html_safe(&fleet::names_human(many, false))
        ),
    }
}

fn out_of_sync(out: &mut String, report: &DriftReport, verbose: bool) {
    let groups = out_of_sync_groups(report, verbose);
    out.push_str("<h2>Out of sync</h2>\n");
    if groups.is_empty() {
        out.push_str("<p id=\"out-of-sync-none\">Every managed bucket is in sync.</p>\n");
        return;
    }
    let shown = groups.len().min(ROWS);
    for group in &groups[..shown] {
        let b: &ManagedBucket = group[0];
        let names: Vec<&str> = group.iter().map(|b| b.bucket.as_str()).collect();
        let source = fleet::sources_note(group.iter().map(|b| b.source.as_str()));
        let (key, words, colour) = match &b.state {
            State::InSync => continue,
            State::Drifted => ("drifted", "drifted", "#9a6700"),
            State::MissingBucket => ("missing", "missing", "#cf222e"),
            State::Error(_) => ("errors", "unreadable", "#6e7781"),
        };
        let _ = writeln!(
            out,
            "<section class=\"bucket\" data-state=\"{key}\" data-buckets=\"{}\">",
            group.len()
        );
        let _ = writeln!(
            out,
            "<h3><span class=\"badge\" style=\"background:{colour}\">{words}</span>{} <small>({})</small></h3>",
            names_cell(&names),
            html_safe(&source)
        );
        if let Some(account) = b.account.as_deref()
            && group.iter().all(|m| m.account.as_deref() == Some(account))
        {
            let _ = writeln!(
                out,
                "<div class=\"names\">account <code>{}</code></div>",
                html_safe(account)
            );
        }
        match &b.state {
            State::Drifted => {
                let live = console_json(from_console(b.live.clone()).as_ref());
                let desired = console_json(from_console(b.desired.clone()).as_ref());
                let same = if group.len() > 1 {
                    ", the same way in each"
                } else {
                    ""
                };
                let none = |text: &str, side: &str| {
                    if text.is_empty() {
                        format!(" (no {side} configuration)")
                    } else {
                        String::new()
                    }
                };
                let _ = writeln!(
                    out,
                    "<div>Live rules differ from the policy{same}: <span style=\"color:#cf222e\">- live</span>{}, \
                     <span style=\"color:#116329\">+ policy</span>{}.</div>",
                    none(&live, "live"),
                    none(&desired, "desired")
                );
                out.push_str("<pre class=\"diff\">");
                for line in diff_lines(&live, &desired) {
                    match line {
                        DiffLine::Same(t) => {
                            let _ = writeln!(out, "  {}", html_safe(t));
                        }
                        DiffLine::Removed(t) => {
                            let _ = write!(out, "<span class=\"del\">- {}</span>", html_safe(t));
                        }
                        DiffLine::Added(t) => {
                            let _ = write!(out, "<span class=\"ins\">+ {}</span>", html_safe(t));
                        }
                        DiffLine::Folded(n) => {
                            let _ =
                                write!(out, "<span class=\"fold\">  … {n} unchanged lines</span>");
                        }
                    }
                }
                out.push_str("</pre>\n");
            }
            State::MissingBucket => {
                let _ = writeln!(
                    out,
                    "<div>The {} not exist.</div>",
                    if group.len() > 1 {
                        "buckets do"
                    } else {
                        "bucket does"
                    }
                );
            }
            State::Error(e) => {
                let _ = writeln!(
                    out,
                    "<div>Its configuration could not be read: <code class=\"message\">{}</code></div>",
                    html_safe(e)
                );
            }
            State::InSync => {}
        }
        out.push_str("</section>\n");
    }
    more(out, groups.len() - shown, "groups of buckets");
}

fn violations(out: &mut String, report: &DriftReport, verbose: bool) {
    out.push_str("<h2>Guardrail violations</h2>\n");
    let groups = violation_groups(&report.violations, verbose);
    if groups.is_empty() {
        out.push_str("<p>No live configuration breaks a guardrail.</p>\n");
        return;
    }
    out.push_str(
        "<table id=\"violations\">\n<tr><th>bucket</th><th>guardrail</th><th>rule</th><th>value</th><th>why</th></tr>\n",
    );
    let shown = groups.len().min(ROWS);
    for group in &groups[..shown] {
        let v = group[0];
        let names: Vec<&str> = group.iter().map(|v| v.bucket.as_str()).collect();
        let _ = writeln!(
            out,
            "<tr data-violation=\"{}\"><td>{}</td><td><code>{}</code></td><td class=\"n\">#{}</td><td><code>{}</code></td><td>{}</td></tr>",
            html_safe(&v.guardrail),
            names_cell(&names),
            html_safe(&v.guardrail),
            v.rule,
            html_safe(&v.value),
            html_safe(&v.message)
        );
    }
    out.push_str("</table>\n");
    more(out, groups.len() - shown, "rows");
}

fn unresolved(out: &mut String, report: &DriftReport) {
    if report.unresolved.is_empty() {
        return;
    }
    out.push_str(
        "<h2>Unresolved</h2>\n<p>Whether a policy manages these is unknown.</p>\n\
         <table id=\"unresolved\">\n<tr><th>bucket</th><th>why</th></tr>\n",
    );
    let shown = report.unresolved.len().min(ROWS);
    for u in &report.unresolved[..shown] {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            html_safe(&u.bucket),
            html_safe(&u.message)
        );
    }
    out.push_str("</table>\n");
    more(out, report.unresolved.len() - shown, "rows");
}

fn unmanaged(out: &mut String, report: &DriftReport, verbose: bool) {
    let Some(unmanaged) = &report.unmanaged else {
        return;
    };
    out.push_str("<h2>Unmanaged buckets with CORS</h2>\n");
    let groups = unmanaged_groups(unmanaged, verbose);
    if groups.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    out.push_str("<table id=\"unmanaged\">\n<tr><th>bucket</th><th>rules</th></tr>\n");
    let shown = groups.len().min(ROWS);
    for group in &groups[..shown] {
        let names: Vec<&str> = group.iter().map(|u| u.bucket.as_str()).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            names_cell(&names),
            group[0].rules
        );
    }
    out.push_str("</table>\n");
    more(out, groups.len() - shown, "rows");
}

fn cycles_table(out: &mut String, cycles: &[Cycle]) {
    out.push_str("<h2>Last checks</h2>\n");
    if cycles.is_empty() {
        out.push_str("<p>None yet.</p>\n");
        return;
    }
    out.push_str("<table id=\"cycles\">\n<tr><th>started</th><th>took</th><th>outcome</th></tr>\n");
    for c in cycles.iter().take(CYCLES_SHOWN) {
        let _ = writeln!(
            out,
            "<tr data-outcome=\"{}\"><td>{}</td><td class=\"n\">{:.2} s</td><td>{}</td></tr>",
            c.outcome.label(),
            html_safe(&c.started),
            c.took.as_secs_f64(),
            c.outcome.words()
        );
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;
    use crate::plan::drift::{LiveViolation, UnresolvedBucket};

    fn page() -> Page<'static> {
        Page {
            checked_at: "2026-11-30T18:00:00Z",
            ..Page::default()
        }
    }

    /// The `data-value` of the element whose attributes include `attrs`.
    fn value(html: &str, attrs: &str) -> Option<usize> {
        let at = html.find(attrs)?;
        let rest = &html[at..];
        let v = rest.split("data-value=\"").nth(1)?;
        v[..v.find('"')?].parse().ok()
    }

    #[test]
    fn counts_carry_the_json_reports_keys() {
        let report = sample();
        let html = html(Some(&report), &page());
        let json = super::super::JsonReport::new(&report);
        for (key, n) in [
            ("in_sync", json.summary.in_sync),
            ("drifted", json.summary.drifted),
            ("missing", json.summary.missing),
            ("errors", json.summary.errors),
            ("guardrail_violations", json.summary.guardrail_violations),
        ] {
            assert_eq!(
                value(&html, &format!("data-summary=\"{key}\"")),
                Some(n),
                "{key}"
            );
        }
        assert!(!json.by_account.is_empty());
        for a in &json.by_account {
            let id = a.account.as_deref().unwrap_or("");
            for (key, n) in &a.counts {
                let attrs = format!("data-account=\"{id}\" data-count=\"{key}\"");
                assert_eq!(value(&html, &attrs), Some(*n), "{attrs}");
            }
        }
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script"), "no script");
        for external in ["<link", "src=", "@import", "url("] {
            assert!(!html.contains(external), "no external asset: {external}");
        }
    }

    #[test]
    fn values_from_policies_and_live_state_are_escaped() {
        let mut report = sample();
        let hostile = "<script>alert(\"x\")</script> & 'y'";
        for b in &mut report.managed {
            if b.state == State::Drifted
                && let Some(live) = b.live.as_mut()
            {
                live[0].allowed_origins = vec![hostile.to_owned()];
                live[0].allowed_headers = vec![hostile.to_owned()];
            }
            if let State::Error(e) = &mut b.state {
                *e = hostile.to_owned();
            }
        }
        report.violations.push(LiveViolation {
            bucket: "hostile-bucket".to_owned(),
            guardrail: hostile.to_owned(),
            rule: 1,
            value: hostile.to_owned(),
            message: hostile.to_owned(),
        });
        report.unresolved.push(UnresolvedBucket {
            bucket: "unresolved-bucket".to_owned(),
            message: hostile.to_owned(),
        });
        report.context.policy_digest = hostile.to_owned();
        let html = html(Some(&report), &page());
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(\"x\")"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        );
        // Origins in the diff are JSON strings first, then escaped.
        assert!(
            html.contains("&lt;script&gt;alert(\\&quot;x\\&quot;)"),
            "{html}"
        );
    }

    #[test]
    fn before_the_first_check_the_page_says_so_and_lists_cycles() {
        let cycles = [Cycle {
            started: "2026-11-30T18:00:00Z".to_owned(),
            took: Duration::from_millis(1234),
            outcome: CycleOutcome::NoPolicies,
        }];
        let html = html(
            None,
            &Page {
                cycles: Some(&cycles),
                refresh_seconds: Some(30),
                ..page()
            },
        );
        assert!(html.contains("id=\"pending\""));
        assert!(html.contains("The first drift check is running"));
        assert!(html.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
        assert!(html.contains(
            "<tr data-outcome=\"no_policies\"><td>2026-11-30T18:00:00Z</td><td class=\"n\">1.23 s</td><td>no usable policies</td></tr>"
        ));
    }

    #[test]
    fn tables_are_bounded() {
        let mut report = sample();
        let template = report
            .managed
            .iter()
            .find(|b| b.state == State::MissingBucket)
            .cloned()
            .expect("a missing bucket in the sample");
        // Distinct accounts so no two buckets group.
        for i in 0..(ROWS + 10) {
            let mut b = template.clone();
            b.bucket = format!("many-{i:05}");
            b.source = format!("p.yaml:{i}");
            b.account = Some(format!("{i:012}"));
            report.managed.push(b);
        }
        let html = html(
            Some(&report),
            &Page {
                verbose: true,
                ..page()
            },
        );
        assert!(html.matches("data-account-row=").count() <= ROWS);
        assert!(html.matches("<section class=\"bucket\"").count() <= ROWS);
        assert!(html.contains("more accounts are left out"));
        assert!(html.contains("more groups of buckets are left out"));
    }
}
