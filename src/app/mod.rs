//! The application shell: one thin module per command that reads files, calls
//! S3 through `s3`, runs the pure core and renders. Only `main` prints.

pub mod accounts;
pub mod apply;
pub mod drift;
pub mod explain;
pub mod fetch;
pub mod import;
pub mod load;
pub mod lock;
pub mod plan;
pub mod policies;
pub mod resolve;
pub mod rollback;
pub mod show;
pub mod validate;
pub mod verify;
pub mod watch;

use crate::cli::{Cli, ColorChoice, Command, Format, Global};
use crate::endpoint::Endpoint;
use crate::plan::fleet::count;
use crate::s3::{AwsS3, ConnectOptions};

/// Exit codes, everywhere (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success and nothing to do.
    Success = 0,
    /// Bad input, a failed call, a guardrail violation.
    Error = 1,
    /// Success with differences (plan with --detailed-exitcode, drift).
    Changes = 2,
}

/// What a command produced: the report for stdout, notes for stderr, the exit code.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    /// A report written to stdout after `stdout` while it is made, instead of
    /// held as text first (`plan --format json` at 100,000 buckets is over
    /// 100 MB of JSON).
    pub stream: Option<Stream>,
    /// Warnings and the like, printed to stderr after stdout.
    pub stderr: String,
    pub exit: Exit,
}

impl Outcome {
    pub fn new(stdout: String, exit: Exit) -> Outcome {
        Outcome {
            stdout,
            stream: None,
            stderr: String::new(),
            exit,
        }
    }
}

/// Writes a report to the writer it is given (see [`Outcome::stream`]).
pub struct Stream(Box<WriteReport>);

type WriteReport = dyn FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + Send;

impl Stream {
    pub fn new(
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + Send + 'static,
    ) -> Stream {
        Stream(Box::new(write))
    }

    /// Writes the report to `out`.
    pub fn write_to(self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        (self.0)(out)
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream")
    }
}

/// What the command can know and do about the terminal it runs in; `main` builds it.
pub struct Console<'a> {
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    pub stdin_is_terminal: bool,
    /// Shows `text` and asks the user to type `yes`; true only if they did.
    pub confirm: &'a mut dyn FnMut(&str) -> std::io::Result<bool>,
}

/// Runs one command line.
pub async fn run(cli: &Cli, console: &mut Console<'_>) -> anyhow::Result<Outcome> {
    let color = use_color(&cli.global, console.stdout_is_terminal);
    let g = &cli.global;
    let calls_s3 = match &cli.command {
        Command::Validate(_) | Command::Show(_) | Command::Schema => false,
        Command::Explain(args) => args.live,
        _ => true,
    };
    if calls_s3 && g.endpoint_url.is_none() {
        check_endpoint_env(|name| std::env::var(name).ok())?;
    }
    if !g.account.is_empty()
        && let Some(why) = account_filter_refused(&cli.command)
    {
        anyhow::bail!("--account: {why}");
    }
    if let Some(why) = format_refused(&cli.command, g.format) {
        anyhow::bail!("--format: {why}");
    }
    match &cli.command {
        Command::Validate(args) => Ok(validate::run(g, args, color)),
        Command::Plan(args) => plan::run(g, args, console).await,
        Command::Show(args) => show::run(g, args, color),
        Command::Apply(args) => apply::run(g, args, console).await,
        Command::Drift(args) => drift::run(g, args, console).await,
        Command::Import(args) => import::run(g, args).await,
        Command::Explain(args) => explain::run(g, args, color).await,
        Command::Verify(args) => verify::run(g, args, color).await,
        Command::Rollback(args) => rollback::run(g, args, console).await,
        Command::Watch(args) => watch::run(g, args).await,
        Command::Schema => Ok(Outcome::new(
            crate::policy::raw::json_schema(),
            Exit::Success,
        )),
    }
}

/// Why this command cannot write `format`: SARIF is for `validate`, `plan`,
/// `drift` and `verify`, JUnit for `validate`, `drift` and `verify`
/// (docs/ci-formats.md), HTML (a status page) for `drift`; the other commands'
/// reports are not findings or tests.
fn format_refused(command: &Command, format: Format) -> Option<String> {
    if matches!(command, Command::Watch(_)) && format != Format::Human {
        return Some(
            "`watch` writes no report: it logs (--log-format json for JSON lines) and \
             serves metrics (--listen)"
                .to_owned(),
        );
    }
    let (name, supported): (&str, &[&str]) = match format {
        Format::Human | Format::Json | Format::Markdown => return None,
        Format::Sarif => ("sarif", &["validate", "plan", "drift", "verify"]),
        Format::Junit => ("junit", &["validate", "drift", "verify"]),
        Format::Html => ("html", &["drift"]),
    };
    let command_name = match command {
        Command::Validate(_) => "validate",
        Command::Plan(_) => "plan",
        Command::Show(_) => "show",
        Command::Apply(_) => "apply",
        Command::Drift(_) => "drift",
        Command::Import(_) => "import",
        Command::Explain(_) => "explain",
        Command::Verify(_) => "verify",
        Command::Rollback(_) => "rollback",
        Command::Schema => "schema",
        Command::Watch(_) => "watch",
    };
    (!supported.contains(&command_name)).then(|| {
        format!(
            "`{command_name}` cannot write {name}; {name} is written by {} (use human, json \
             or markdown here)",
            supported.join(", ")
        )
    })
}

/// Why `--account` cannot narrow this command (it would be silently ignored).
fn account_filter_refused(command: &Command) -> Option<&'static str> {
    match command {
        Command::Show(_) => Some(
            "`show` shows a saved plan as it was made; plan again with --account to see one \
             account's changes",
        ),
        Command::Rollback(_) => {
            Some("`rollback` restores everything its apply changed; it cannot leave an account out")
        }
        Command::Explain(_) => Some(
            "`explain` answers for the one bucket --bucket names, with the caller's credentials \
             for --live",
        ),
        _ => None,
    }
}

/// The endpoint variables the SDK reads when `--endpoint-url` is absent, checked
/// as `--endpoint-url` is, so a typo is named as one and not as an SDK failure on
/// every bucket.
fn check_endpoint_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
    for name in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
        if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
            crate::cli::endpoint_url(&value).map_err(|why| anyhow::anyhow!("{name}: {why}"))?;
        }
    }
    Ok(())
}

fn use_color(global: &Global, is_terminal: bool) -> bool {
    match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Whether a progress bar may be drawn: stderr is a terminal, output is not JSON
/// (or SARIF or JUnit),
/// and the user did not ask for quiet.
pub fn show_progress(global: &Global, console: &Console<'_>) -> bool {
    console.stderr_is_terminal
        && !global.quiet
        && !matches!(
            global.format,
            Format::Json | Format::Sarif | Format::Junit | Format::Html
        )
}

/// How the global options say to reach S3 (standard AWS chain underneath).
pub fn connect_options(global: &Global) -> ConnectOptions {
    ConnectOptions {
        endpoint_url: global.endpoint_url.clone(),
        region: global.region.clone(),
        profile: global.profile.clone(),
        path_style: global.path_style,
        max_attempts: None,
        timeout: Some(std::time::Duration::from_secs(u64::from(global.timeout))),
        access: crate::model::Access::default(),
    }
}

/// The S3 client of the caller's own credentials, as the global options describe.
pub async fn connect(global: &Global) -> AwsS3 {
    AwsS3::connect(&connect_options(global)).await
}

/// A progress bar on stderr for `len` buckets, drawn only when [`show_progress`]
/// allows and there are enough buckets to be worth it. Callers step it once per
/// bucket (`inc(1)` when the bucket is finished, whatever number of calls it
/// took), so position and length count buckets; both are shown with thousands
/// separators and the rate as [`rate`] writes it.
pub fn progress(
    global: &Global,
    console: &Console<'_>,
    len: usize,
    what: &str,
) -> indicatif::ProgressBar {
    const MIN_STEPS: usize = 50;
    if !show_progress(global, console) || len < MIN_STEPS {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style = indicatif::ProgressStyle::with_template(PROGRESS_TEMPLATE)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .with_key(
            "done",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&count(state.pos() as usize));
            },
        )
        .with_key(
            "total",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&count(state.len().unwrap_or(0) as usize));
            },
        )
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate(state.per_sec()));
            },
        )
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// The progress bar's line; `done`, `total` and `rate` are keys of our own.
const PROGRESS_TEMPLATE: &str = "{msg:>12} [{bar:30}] {done}/{total} buckets, {rate}, ETA {eta}";

/// Buckets per second for people: whole numbers with thousands separators
/// (`311/s`, `1,204/s`), one decimal under 10 (`2.5/s`), `0/s` before the
/// first bucket is done.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0/s".to_owned()
    } else if per_sec < 0.05 {
        "<0.1/s".to_owned()
    } else if per_sec < 9.95 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{}/s", count(per_sec.round() as usize))
    }
}

/// The current time as RFC 3339 UTC (`2026-11-28T15:04:05Z`), for plan files
/// and journals.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC (Howard Hinnant's civil_from_days).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The endpoint the client talks to, as recorded in plan files, imported policies
/// and reports: `None` for AWS's own regional endpoints (whether set by
/// `--endpoint-url` or `AWS_ENDPOINT_URL`), and never with a `user:password@`.
pub fn endpoint_of(s3: &AwsS3) -> Endpoint {
    Endpoint::from_url(s3.endpoint_url())
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_variables_are_checked_like_the_flag() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(super::check_endpoint_env(env(&[])).is_ok());
        assert!(super::check_endpoint_env(env(&[("AWS_ENDPOINT_URL", "http://h:9000")])).is_ok());
        let err = super::check_endpoint_env(env(&[("AWS_ENDPOINT_URL", "h:9000")]))
            .expect_err("no scheme");
        assert!(
            err.to_string()
                .starts_with("AWS_ENDPOINT_URL: `h:9000` is not an S3 endpoint URL"),
            "{err}"
        );
        assert!(super::check_endpoint_env(env(&[("AWS_ENDPOINT_URL_S3", "http://h/x")])).is_err());
    }

    #[test]
    fn progress_template_parses() {
        assert!(indicatif::ProgressStyle::with_template(super::PROGRESS_TEMPLATE).is_ok());
    }

    #[test]
    fn rates_are_readable() {
        for (per_sec, want) in [
            (310.9274, "311/s"),
            (0.0, "0/s"),
            (f64::NAN, "0/s"),
            (f64::INFINITY, "0/s"),
            (-1.0, "0/s"),
            (0.04, "<0.1/s"),
            (0.42, "0.4/s"),
            (2.5, "2.5/s"),
            (9.94, "9.9/s"),
            (9.96, "10/s"),
            (12.4, "12/s"),
            (1204.3, "1,204/s"),
        ] {
            assert_eq!(super::rate(per_sec), want, "{per_sec}");
        }
    }

    #[test]
    fn rfc3339_dates() {
        for (secs, want) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_798_498_800, "2026-12-28T23:00:00Z"),
            (4_107_542_399, "2100-02-28T23:59:59Z"),
        ] {
            assert_eq!(super::rfc3339(secs), want);
        }
    }
}
