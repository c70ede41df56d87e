//! `s3cors explain`: which rule S3 would match for one request, and the response it
//! would send, on a bucket's desired rules (from the policies) or, with `--live`, on
//! its live configuration. The decision is the pure simulator's
//! (`cors::simulate`); this module finds the rules and renders the answer.
//!
//! Ownership of the bucket follows the policies' rules: an exact `name:` entry wins;
//! otherwise the `match:` entry whose glob selects the name. When that choice depends
//! on tags, the bucket's live tags are read (as `plan` does); when they cannot be read
//! (no credentials, no endpoint, the bucket does not exist) within [`TAGS_TIMEOUT`],
//! the decision falls back to the globs alone, and the answer says so in a note.

use std::time::Duration;

use super::policies::{self, Policies};
use super::{Exit, Outcome};
use crate::cli::{ExplainArgs, Format, Global};
use crate::cors::explain::{self, Explanation, LiveState, RuleSource, RulesFrom};
use crate::cors::simulate::Request;
use crate::policy::ownership::{Choice, Ownership, Tags};
use crate::policy::{BucketEntry, Selector};
use crate::s3::{BucketTarget, S3Api, S3ErrorKind};

/// Longest wait for the bucket's tags when ownership depends on them.
pub const TAGS_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(global: &Global, args: &ExplainArgs, color: bool) -> anyhow::Result<Outcome> {
    let mut notes = Vec::new();
    let request = request(args);
    // Policy lints are `validate`'s business: explain shows none of them.
    let explanation = if args.live {
        let s3 = super::connect(global).await;
        let endpoint = super::endpoint_of(&s3);
        // A missing bucket or one without CORS is an answer S3 gives to every request
        // for it, so it is explained; anything else (access denied, the network) is
        // an error: explain cannot know what S3 would answer.
        let (live, state) = match s3.get_cors(&BucketTarget::new(&args.bucket)).await {
            Ok(Some(config)) => (Some(config), LiveState::CorsConfiguration),
            Ok(None) => (None, LiveState::NoCorsConfiguration),
            Err(e) if e.kind == S3ErrorKind::NoSuchBucket => {
                notes.push(format!(
                    "GetBucketCors answered {}; if the bucket should exist, check its name, \
                     the account and the endpoint",
                    e.code.as_deref().unwrap_or("404")
                ));
                (None, LiveState::NoSuchBucket)
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot explain bucket {} live: reading its CORS configuration failed, \
                     so what S3 would answer is unknown",
                    args.bucket
                )));
            }
        };
        explain::explain_fetch(
            &args.bucket,
            RulesFrom::Live { endpoint, state },
            live.as_ref(),
            &[],
            &request,
            args.credentials,
            notes,
        )
    } else {
        let policies = match policies::load(&args.policies.paths, false, global, color) {
            Ok(p) => p,
            Err(outcome) => return Ok(outcome),
        };
        let entry = owner(global, &policies, &args.bucket, &mut notes).await?;
        desired(&policies, entry, args, &request, notes)
    };
    let stdout = render(global.format, &explanation, color);
    Ok(Outcome::new(stdout, Exit::Success))
}

/// The request the arguments describe: a preflight unless `--actual`, carrying
/// `Access-Control-Request-Method: --method` (none without `--method`). An actual
/// request (whose `--method` clap requires) carries `--request-method` and `--header`
/// as `Access-Control-Request-*` headers, which S3 matches on every request
/// (docs/s3-cors-semantics.md).
fn request(args: &ExplainArgs) -> Request {
    if args.actual {
        Request {
            origin: args.origin.clone(),
            method: args.method.clone().unwrap_or_default(),
            access_control_request_method: args.request_method.clone(),
            access_control_request_headers: args.header.clone(),
        }
    } else {
        Request {
            origin: args.origin.clone(),
            method: "OPTIONS".to_string(),
            access_control_request_method: args.method.clone(),
            access_control_request_headers: args.header.clone(),
        }
    }
}

/// The entry that manages `bucket`, reading its tags when the decision needs them.
async fn owner<'p>(
    global: &Global,
    policies: &'p Policies,
    bucket: &str,
    notes: &mut Vec<String>,
) -> anyhow::Result<&'p BucketEntry> {
    let ownership = Ownership::new(&policies.policy);
    let place = |e: &BucketEntry| policies.sources.file_line(e.span);
    let mut read = None;
    if ownership.needs_tags(bucket) {
        let s3 = super::connect(global).await;
        let target = BucketTarget::new(bucket);
        match tokio::time::timeout(TAGS_TIMEOUT, s3.get_tags(&target)).await {
            Ok(Ok(tags)) => read = Some(Ok(tags)),
            Ok(Err(e)) => {
                read = Some(Err(()));
                notes.push(format!(
                    "could not read the bucket's tags ({e}): ownership decided by `match:` globs alone, tags not checked"
                ));
            }
            Err(_) => {
                read = Some(Err(()));
                notes.push(format!(
                    "could not read the bucket's tags within {} s: ownership decided by `match:` globs alone, tags not checked",
                    TAGS_TIMEOUT.as_secs()
                ));
            }
        }
    }
    let tags = match &read {
        None => Tags::NotRead,
        Some(Ok(tags)) => Tags::Read(tags),
        Some(Err(())) => Tags::Unreadable,
    };
    match (ownership.choose(bucket, tags), tags) {
        (Choice::Owner(entry), Tags::Read(tags)) => {
            notes.push(format!(
                "ownership decided with the bucket's live tags ({})",
                show_tags(tags.iter())
            ));
            Ok(entry)
        }
        (Choice::Owner(entry), _) => Ok(entry),
        (Choice::Unmanaged, Tags::Read(tags)) => anyhow::bail!(
            "no policy entry manages bucket {bucket}: `match:` globs select its name, but its tags ({}) match none of their `tags:`; use --live to explain its live configuration",
            show_tags(tags.iter())
        ),
        (Choice::Unmanaged, _) => anyhow::bail!(
            "no policy entry manages bucket {bucket} (no `name:` entry, no `match:` glob selects it); use --live to explain its live configuration"
        ),
        (Choice::Ambiguous(many), _) => anyhow::bail!(
            "bucket {bucket} is selected by {} `match:` entries ({}) that differ by tags, and its tags could not be read; pass credentials/--endpoint-url so explain can read them, or use --live",
            many.len(),
            many.iter().map(|e| place(e)).collect::<Vec<_>>().join(", ")
        ),
        (Choice::Conflict(d), _) => anyhow::bail!("{}", d.message),
    }
}

fn show_tags<'a>(tags: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let shown: Vec<String> = tags.map(|(k, v)| format!("{k}={v}")).collect();
    if shown.is_empty() {
        "none".to_string()
    } else {
        shown.join(", ")
    }
}

/// Explains `request` on the entry's desired rules, with their places.
fn desired(
    policies: &Policies,
    entry: &BucketEntry,
    args: &ExplainArgs,
    request: &Request,
    notes: Vec<String>,
) -> Explanation {
    let sources = &policies.sources;
    let line = |span| sources.file_line(span);
    let rule_sources: Vec<RuleSource> = entry
        .rules
        .iter()
        .map(|r| {
            let first = |spans: &[crate::diag::Span]| {
                spans
                    .first()
                    .map_or_else(|| line(r.spans.rule), |s| line(*s))
            };
            RuleSource {
                rule: line(r.spans.rule),
                ruleset: r.ruleset.clone(),
                origins: first(r.spans.allowed_origins()),
                methods: first(r.spans.allowed_methods()),
                headers: first(r.spans.allowed_headers()),
            }
        })
        .collect();
    let selector = match &entry.selector {
        Selector::Name(name) => format!("name: {name}"),
        Selector::Match(m) if m.tags.is_empty() => format!("match: {:?}", m.pattern),
        Selector::Match(m) => format!(
            "match: {:?}, tags: {{{}}}",
            m.pattern,
            m.tags
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    explain::explain_fetch(
        &args.bucket,
        RulesFrom::Policy {
            entry: line(entry.span),
            selector,
        },
        entry.desired().as_ref(),
        &rule_sources,
        request,
        args.credentials,
        notes,
    )
}

fn render(format: Format, e: &Explanation, color: bool) -> String {
    match format {
        Format::Human => explain::human(e, color),
        Format::Json => explain::json(e),
        Format::Markdown => explain::markdown(e),
        // Refused before the command runs (`app::format_refused`).
        Format::Sarif | Format::Junit | Format::Html => explain::json(e),
    }
}
