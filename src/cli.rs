//! The command line: every command and option, as clap types. No behaviour here.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::plan::shard::{ShardBy, ShardRecord};

/// What `--version` shows: the crate's version and the commit it was built from
/// (build.rs; `unknown` outside a git checkout).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("S3CORS_COMMIT"), ")");

/// Declarative policy-as-code for Amazon S3 bucket CORS configurations.
#[derive(Debug, Parser)]
#[command(name = "s3cors", version = VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after the command name.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// S3 endpoint URL (any S3-compatible server); AWS_ENDPOINT_URL works too
    #[arg(
        long,
        env = "S3CORS_ENDPOINT_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL",
        value_parser = endpoint_url,
        help_heading = "Global options"
    )]
    pub endpoint_url: Option<String>,
    /// AWS region for calls whose bucket region is not known; AWS_REGION works too
    #[arg(
        long,
        env = "S3CORS_REGION",
        global = true,
        value_name = "REGION",
        help_heading = "Global options"
    )]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config; AWS_PROFILE works too
    #[arg(
        long,
        env = "S3CORS_PROFILE",
        global = true,
        value_name = "NAME",
        help_heading = "Global options"
    )]
    pub profile: Option<String>,
    /// Address buckets as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT
    #[arg(
        long,
        global = true,
        env = "S3CORS_PATH_STYLE",
        value_parser = boolish(),
        help_heading = "Global options"
    )]
    pub path_style: bool,
    /// Most S3 calls in flight at once
    #[arg(long, global = true, env = "S3CORS_PARALLELISM", value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=1024), help_heading = "Global options")]
    pub parallelism: u16,
    /// Longest wait for one S3 attempt or verify probe (connect, answer, whole
    /// attempt); a call with its retries gets 3 times this
    #[arg(long, global = true, env = "S3CORS_TIMEOUT", value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3600), help_heading = "Global options")]
    pub timeout: u32,
    /// Work on shard K of N (1-based): a stable split of the buckets for CI matrices;
    /// S3CORS_SHARD works too
    #[arg(
        long,
        global = true,
        value_name = "K/N",
        help_heading = "Global options"
    )]
    pub shard: Option<Shard>,
    /// Work on shard I (0-based, as Kubernetes' JOB_COMPLETION_INDEX) of --shard-count;
    /// S3CORS_SHARD_INDEX or JOB_COMPLETION_INDEX works too
    #[arg(
        long,
        global = true,
        value_name = "I",
        requires = "shard_count",
        conflicts_with = "shard",
        help_heading = "Global options"
    )]
    pub shard_index: Option<u32>,
    /// How many shards, with --shard-index; S3CORS_SHARD_COUNT works too
    #[arg(long, global = true, value_name = "N", requires = "shard_index",
          value_parser = clap::value_parser!(u32).range(1..), help_heading = "Global options")]
    pub shard_count: Option<u32>,
    /// Only buckets in this account (repeatable): its 12-digit ID, one that
    /// `accounts:` declares or the organisation lists; in the environment, a
    /// comma-separated list
    #[arg(
        long = "account",
        global = true,
        env = "S3CORS_ACCOUNT",
        value_delimiter = ',',
        value_name = "ID",
        help_heading = "Global options"
    )]
    pub account: Vec<String>,
    /// What decides a bucket's shard: `bucket` (its name, the default) or
    /// `account` (one account's buckets share a shard); S3CORS_SHARD_BY works too
    #[arg(
        long,
        global = true,
        value_name = "BY",
        help_heading = "Global options"
    )]
    pub shard_by: Option<ShardBy>,
    /// Log lines on stderr as text or as one JSON object each
    #[arg(long, global = true, env = "S3CORS_LOG_FORMAT", value_name = "FORMAT", value_enum, default_value_t = LogFormat::Text, help_heading = "Global options")]
    pub log_format: LogFormat,
    /// Output format of reports
    #[arg(long, global = true, env = "S3CORS_FORMAT", value_enum, default_value_t = Format::Human, help_heading = "Global options")]
    pub format: Format,
    /// When to colour output
    #[arg(long, global = true, env = "S3CORS_COLOR", value_enum, default_value_t = ColorChoice::Auto, help_heading = "Global options")]
    pub color: ColorChoice,
    /// Every bucket in plan, apply and drift reports (not identical changes
    /// once), every case in verify's; more log output on stderr (-v info, -vv
    /// debug, -vvv trace)
    #[arg(short, long, global = true, env = "S3CORS_VERBOSE", action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    /// Only errors on stderr, no progress
    #[arg(
        short,
        long,
        global = true,
        env = "S3CORS_QUIET",
        value_parser = boolish(),
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
    /// Never prompt: `apply` and `rollback` without --auto-approve fail at once
    /// instead of asking for `yes`; CI=true (or 1) means this too
    #[arg(
        long,
        global = true,
        env = "S3CORS_NO_INPUT",
        value_parser = boolish(),
        help_heading = "Global options"
    )]
    pub no_input: bool,
}

/// Parses the command line `args` (the program name first). A global option
/// given as a flag ignores its environment variable entirely, so that the flag
/// wins even over a bad value (clap would read the variable again for the
/// subcommand, which does not see a flag given before it).
pub fn parse(args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let text: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut cmd = Cli::command();
    let given: Vec<clap::Id> = cmd
        .get_arguments()
        .filter(|a| a.get_env().is_some() && on_command_line(a, &text))
        .map(|a| a.get_id().clone())
        .collect();
    for id in given {
        cmd = cmd.mut_arg(id, |a| a.env(None));
    }
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))
}

/// Whether `arg` is on the command line `args`: `--name`, `--name=VALUE`, or its
/// short letter alone or among others (`-vv`, `-qv`). Anything after `--` is an operand.
fn on_command_line(arg: &clap::Arg, args: &[String]) -> bool {
    let Some(long) = arg.get_long() else {
        return false;
    };
    let flag = format!("--{long}");
    let short = arg.get_short();
    args.iter().skip(1).take_while(|a| *a != "--").any(|a| {
        a == &flag
            || a.strip_prefix(flag.as_str())
                .is_some_and(|r| r.starts_with('='))
            || short.is_some_and(|c| {
                a.len() > 1 && a.starts_with('-') && !a.starts_with("--") && a.contains(c)
            })
    })
}

/// For a usage error about global options, a note naming the environment
/// variables that set them (clap names only the flag, which `args`, the command
/// line, may not have): `S3CORS_FORMAT=xml in the environment sets --format`.
/// `env` looks a variable up.
pub fn env_note(
    err: &clap::Error,
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let named: Vec<String> = [ContextKind::InvalidArg, ContextKind::PriorArg]
        .into_iter()
        .flat_map(|kind| match err.get(kind) {
            Some(ContextValue::String(s)) => vec![s.clone()],
            Some(ContextValue::Strings(v)) => v.clone(),
            _ => Vec::new(),
        })
        .collect();
    let cmd = Cli::command();
    let mut notes = Vec::new();
    for arg in cmd.get_arguments() {
        let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        let flag = format!("--{long}");
        let is_named = |n: &String| {
            n.strip_prefix(flag.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '.', '=']))
        };
        if !named.iter().any(is_named) {
            continue;
        }
        let var = var.to_string_lossy();
        let Some(value) = env(&var) else { continue };
        if on_command_line(arg, args) {
            continue;
        }
        notes.push(if arg.is_hide_env_values_set() {
            format!("note: {var} in the environment sets {flag}")
        } else {
            format!("note: {var}={value} in the environment sets {flag}")
        });
    }
    if notes.is_empty() {
        return None;
    }
    Some(format!(
        "{}\n  (fix or unset the variable, or pass the flag: flags win over the environment)\n",
        notes.join("\n")
    ))
}

/// The values a yes/no environment variable may take: true/false, yes/no, on/off, 1/0.
fn boolish() -> clap::builder::BoolishValueParser {
    clap::builder::BoolishValueParser::new()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
    // SARIF 2.1.0 for code scanning (validate, plan, drift, verify), JUnit XML
    // for CI test reports (validate, drift, verify), one self-contained HTML
    // page (drift); `app::format_refused`.
    Sarif,
    Junit,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl Global {
    /// Whether to never prompt: `--no-input`, else `S3CORS_NO_INPUT` (clap read
    /// it), else a CI system's `CI=true` or `CI=1` (which GitHub Actions, GitLab
    /// and most others set). An explicit `S3CORS_NO_INPUT=false` wins over `CI`.
    pub fn resolve_no_input(&self, env: impl Fn(&str) -> Option<String>) -> bool {
        if self.no_input || env("S3CORS_NO_INPUT").is_some() {
            return self.no_input;
        }
        env("CI").is_some_and(|ci| {
            let ci = ci.trim();
            ci == "1" || ci.eq_ignore_ascii_case("true")
        })
    }

    /// The shard this run works on, from `--shard K/N`, `--shard-index I
    /// --shard-count N`, or else the environment: `S3CORS_SHARD=K/N`, or
    /// `S3CORS_SHARD_COUNT=N` with `S3CORS_SHARD_INDEX=I` or Kubernetes'
    /// `JOB_COMPLETION_INDEX=I` (0-based); split by `--shard-by` or else
    /// `S3CORS_SHARD_BY` (default: bucket). `env` looks a variable up.
    pub fn resolve_shard(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, String> {
        let by = match (self.shard_by, env("S3CORS_SHARD_BY")) {
            (Some(by), _) => by,
            (None, Some(by)) => by.parse().map_err(|e| format!("S3CORS_SHARD_BY: {e}"))?,
            (None, None) => ShardBy::Bucket,
        };
        let shard = self.numbered_shard(env)?;
        if shard.is_none() && self.shard_by.is_some() {
            return Err(
                "--shard-by says how to shard, but no shard is named: add --shard K/N \
                 (or --shard-index I --shard-count N, or S3CORS_SHARD=K/N)"
                    .to_owned(),
            );
        }
        Ok(shard.map(|s| Shard { by, ..s }))
    }

    /// The shard's number, from the flags or the environment (see [`Self::resolve_shard`]).
    fn numbered_shard(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, String> {
        if self.shard.is_some() {
            return Ok(self.shard);
        }
        if let (Some(index), Some(count)) = (self.shard_index, self.shard_count) {
            return Shard::zero_based(index, count).map(Some);
        }
        if let Some(k_n) = env("S3CORS_SHARD") {
            return k_n
                .parse()
                .map(Some)
                .map_err(|e| format!("S3CORS_SHARD: {e}"));
        }
        let Some(count) = env("S3CORS_SHARD_COUNT") else {
            return Ok(None);
        };
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("S3CORS_SHARD_COUNT: `{count}` is not a number of shards"))?;
        let (name, index) = match (env("S3CORS_SHARD_INDEX"), env("JOB_COMPLETION_INDEX")) {
            (Some(i), _) => ("S3CORS_SHARD_INDEX", i),
            (None, Some(i)) => ("JOB_COMPLETION_INDEX", i),
            (None, None) => {
                return Err(
                    "S3CORS_SHARD_COUNT is set, but neither S3CORS_SHARD_INDEX nor \
                            JOB_COMPLETION_INDEX says which shard this is"
                        .to_owned(),
                );
            }
        };
        let index: u32 = index
            .trim()
            .parse()
            .map_err(|_| format!("{name}: `{index}` is not a shard index"))?;
        Shard::zero_based(index, count)
            .map(Some)
            .map_err(|e| format!("{name}: {e}"))
    }
}

/// `K/N`: shard K (1-based) of N, split by `by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    pub by: ShardBy,
}

impl Shard {
    /// The shard as plans and reports record it.
    pub fn record(self) -> ShardRecord {
        ShardRecord {
            index: self.index,
            count: self.count,
            by: self.by,
        }
    }
}

impl Shard {
    /// Shard `index` (0-based) of `count`.
    pub fn zero_based(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || index >= count {
            return Err(format!(
                "shard index {index} is not in 0..{count} (0-based, as JOB_COMPLETION_INDEX)"
            ));
        }
        Ok(Shard {
            index: index + 1,
            count,
            by: ShardBy::Bucket,
        })
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let err = || format!("`{s}` is not K/N with 1 <= K <= N (for example 2/8)");
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let index: u32 = k.trim().parse().map_err(|_| err())?;
        let count: u32 = n.trim().parse().map_err(|_| err())?;
        if index == 0 || count == 0 || index > count {
            return Err(err());
        }
        Ok(Shard {
            index,
            count,
            by: ShardBy::Bucket,
        })
    }
}

/// An absolute `http://` or `https://` URL with a host, as `verify --url` requests it.
fn http_url(s: &str) -> Result<String, String> {
    let err =
        || format!("`{s}` is not an http(s) URL (for example https://cdn.example.com/app.js)");
    let uri: http::Uri = s.parse().map_err(|_| err())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(s.to_owned()),
        _ => Err(err()),
    }
}

/// An S3 endpoint: `http(s)://host[:port]` with at most a `/` after it. Checked
/// here so a typo is named as one (the SDK would report "Invalid region"). A
/// `user:password@` is dropped: S3 signs requests, and the URL is recorded in
/// plan files and reports.
pub fn endpoint_url(s: &str) -> Result<String, String> {
    let err = |why: &str| {
        format!("`{s}` is not an S3 endpoint URL: {why} (for example http://127.0.0.1:9000)")
    };
    let url = crate::text::without_userinfo(s.trim());
    let uri: http::Uri = url.parse().map_err(|_| err("it does not parse as a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(err("it must start with http:// or https://"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(err("it has no host"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() || url.contains('#') {
        return Err(err("it must not have a path, query or fragment"));
    }
    Ok(url.into_owned())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, validate, lint and check guardrails; offline, no AWS calls
    Validate(ValidateArgs),
    /// Fetch live configurations and show what apply would change
    Plan(PlanArgs),
    /// Render a saved plan file as `plan` does
    Show(ShowArgs),
    /// Apply a saved plan exactly, or plan, confirm and apply
    Apply(ApplyArgs),
    /// Compliance report: in-sync, drifted and missing buckets (exit 2 on drift)
    Drift(DriftArgs),
    /// Write policy YAML from live bucket configurations
    Import(ImportArgs),
    /// Which rule S3 would match for a request, and the headers it would send
    Explain(ExplainArgs),
    /// Send real preflight and GET requests and check the CORS headers
    Verify(VerifyArgs),
    /// Restore the configurations an applied plan replaced
    Rollback(RollbackArgs),
    /// Check drift every interval, with Prometheus metrics and health checks
    Watch(WatchArgs),
    /// Print the JSON Schema of policy files (for editors' YAML language servers)
    Schema,
}

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PolicyPaths {
    /// Policy files or folders to read (every *.yaml / *.yml below them)
    #[arg(value_name = "PATHS", default_value = "policies")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub policies: PolicyPaths,
    /// Treat warnings as errors
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub policies: PolicyPaths,
    /// Save the plan to FILE for `s3cors apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Let --out replace an applied plan, a policy file or a non-plan file
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Exit 0 with no changes, 2 with changes, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan only this bucket (repeatable)
    #[arg(long, value_name = "BUCKET")]
    pub target: Vec<String>,
    /// Treat lint warnings as errors
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan file written by `s3cors plan --out`; several: one per shard, shown as one plan
    #[arg(value_name = "PLAN_FILE", required = true, num_args = 1..)]
    pub plan_files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply exactly this saved plan; without it, plan from PATHS and ask first
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,
    /// Policy files or folders, when no plan file is given
    #[arg(long = "policies", value_name = "PATHS", default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long)]
    pub auto_approve: bool,
    /// Apply only this bucket (repeatable; without a plan file)
    #[arg(long, value_name = "BUCKET")]
    pub target: Vec<String>,
    /// Longest wait, per bucket, for S3 to return what was written
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub wait_timeout: u64,
    /// Wait up to SECONDS for another apply or rollback of the same plan to finish
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
    /// Treat lint warnings as errors
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub policies: PolicyPaths,
    /// Also list buckets that have CORS but no policy manages
    #[arg(long)]
    pub unmanaged: bool,
    /// Merge the JSON reports (`drift --format json`) of every shard of one run
    /// into one report, instead of reading S3
    #[arg(long, value_name = "REPORT", num_args = 1.., conflicts_with_all = ["unmanaged", "paths"])]
    pub merge: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["bucket", "glob", "all"])))]
pub struct ImportArgs {
    /// Import this bucket (repeatable)
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Vec<String>,
    /// Import every bucket whose name matches GLOB
    #[arg(long = "match", value_name = "GLOB")]
    pub glob: Option<String>,
    /// Import every bucket
    #[arg(long)]
    pub all: bool,
    /// Write the policy YAML to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Import from every account the `accounts:` of these policy files or
    /// folders cover (repeatable); each entry gets its `account:`
    #[arg(long, value_name = "PATH")]
    pub accounts_from: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub policies: PolicyPaths,
    /// The bucket the request is for
    #[arg(long, value_name = "BUCKET")]
    pub bucket: String,
    /// The request's Origin header
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// The request's method (for a preflight: its Access-Control-Request-Method,
    /// none when omitted; with --actual, required: the HTTP method)
    #[arg(long, value_name = "METHOD", required_if_eq("actual", "true"))]
    pub method: Option<String>,
    /// A header the request asks for (Access-Control-Request-Headers; repeatable;
    /// with --actual, sent on the actual request, which S3 checks too)
    #[arg(long, value_name = "HEADER")]
    pub header: Vec<String>,
    /// Explain an actual request (GET/PUT with Origin; needs --method) instead of a
    /// preflight
    #[arg(long)]
    pub actual: bool,
    /// With --actual: the Access-Control-Request-Method the request carries, which
    /// S3 matches instead of its method
    #[arg(long, value_name = "METHOD", requires = "actual")]
    pub request_method: Option<String>,
    /// Use the bucket's live configuration instead of the policies
    #[arg(long)]
    pub live: bool,
    /// The request is made with credentials (cookies, HTTP authentication; fetch's
    /// credentials: 'include'): the browser then needs the exact origin and
    /// Access-Control-Allow-Credentials: true
    #[arg(long)]
    pub credentials: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub policies: PolicyPaths,
    /// Verify only this bucket (repeatable)
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Vec<String>,
    /// An object key to send GET/HEAD requests with Origin to
    #[arg(long, value_name = "KEY")]
    pub object: Option<String>,
    /// A URL in front of S3 (a CDN) to check: GET without Origin, then from origin A, then from B; fails when a cache serves one request's answer to another
    #[arg(long, value_name = "URL", value_parser = http_url)]
    pub url: Option<String>,
    /// An Origin `--url` sends: A, then B (give it twice); default: origins the --bucket's policy allows (B: another allowed origin, else one it refuses)
    #[arg(long, value_name = "ORIGIN", requires = "url")]
    pub origin: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub policies: PolicyPaths,
    /// Time between the starts of two drift checks (`30s`, `5m`, `1h`; a plain
    /// number is seconds); each wait is jittered by up to a tenth
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub interval: std::time::Duration,
    /// Serve /metrics (Prometheus), /healthz and /readyz on this address
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Stop after this many checks (default: run until SIGTERM or SIGINT)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub cycles: Option<u64>,
    /// After each check, write drifted buckets back to their policies, as `apply`
    /// does (read, journal, write, read back); never a `reconcile: false` entry
    #[arg(long)]
    pub reconcile: bool,
    /// With --reconcile: write at most N buckets per check; the rest wait for the next
    #[arg(long, value_name = "N", default_value_t = 10, requires = "reconcile")]
    pub max_writes_per_cycle: usize,
    /// With --reconcile: the folder of each writing cycle's plan file and journal
    /// (`s3cors rollback PLAN_FILE` undoes a cycle)
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".s3cors/watch",
        requires = "reconcile"
    )]
    pub journal_dir: std::path::PathBuf,
    /// With --reconcile: keep the plan files and journals of the last N writing cycles
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..), requires = "reconcile")]
    pub keep_journals: u64,
    /// With --reconcile: longest wait, per bucket, for S3 to return what was written
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30,
        requires = "reconcile"
    )]
    pub wait_timeout: u64,
}

/// A duration as `90`, `90s`, `5m`, `1h` or `500ms`; at least 1 ms.
fn duration(s: &str) -> Result<std::time::Duration, String> {
    let err = || format!("`{s}` is not a duration (for example 30s, 5m, 1h)");
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| err())?;
    let ms = match unit {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(err()),
    }
    .ok_or_else(err)?;
    if ms == 0 {
        return Err(format!("`{s}`: the interval must be longer than zero"));
    }
    Ok(std::time::Duration::from_millis(ms))
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The plan file an apply ran from (its journal holds the previous configurations)
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: PathBuf,
    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long)]
    pub auto_approve: bool,
    /// Longest wait, per bucket, for S3 to return what was written
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub wait_timeout: u64,
    /// Wait up to SECONDS for another apply or rollback of the same plan to finish
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn verify_urls_must_be_absolute_http() {
        assert!(http_url("https://cdn.example.com/app.js").is_ok());
        assert!(http_url("http://127.0.0.1:8080/x").is_ok());
        for bad in [
            "notaurl",
            "/app.js",
            "ftp://cdn.example.com/x",
            "https://",
            "",
        ] {
            assert!(http_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoint_urls_are_checked_and_lose_userinfo() {
        for (text, want) in [
            ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
            ("https://s3.example.com/", "https://s3.example.com/"),
            ("http://u:secret@127.0.0.1:9000", "http://127.0.0.1:9000"),
            ("http://[::1]:9000", "http://[::1]:9000"),
        ] {
            assert_eq!(endpoint_url(text).as_deref(), Ok(want), "{text}");
        }
        for bad in [
            "127.0.0.1:9000",
            "localhost",
            "ftp://host",
            "http://",
            "http://host/bucket",
            "http://host/?x=1",
            "http://host/#f",
            "http://ho st",
            "",
        ] {
            let msg = endpoint_url(bad).expect_err(bad);
            assert!(msg.contains("is not an S3 endpoint URL"), "{msg}");
        }
    }

    #[test]
    fn shard_comes_from_flags_then_the_environment() {
        let global = |args: &[&str]| {
            let mut argv = vec!["s3cors"];
            argv.extend_from_slice(args);
            argv.push("validate");
            Cli::try_parse_from(argv).map(|c| c.global)
        };
        let shard = |index, count| {
            Ok(Some(Shard {
                index,
                count,
                by: ShardBy::Bucket,
            }))
        };
        let by_account = |index, count| {
            Ok(Some(Shard {
                index,
                count,
                by: ShardBy::Account,
            }))
        };
        type Case<'a> = (
            &'a [&'a str],
            &'a [(&'a str, &'a str)],
            Result<Option<Shard>, String>,
        );
        let cases: Vec<Case> = vec![
            (&[], &[], Ok(None)),
            (&["--shard", "2/4"], &[("S3CORS_SHARD", "1/4")], shard(2, 4)),
            (&["--shard-index", "0", "--shard-count", "4"], &[], shard(1, 4)),
            (&["--shard-index", "3", "--shard-count", "4"], &[], shard(4, 4)),
            (&[], &[("S3CORS_SHARD", "3/5")], shard(3, 5)),
            (&[], &[("S3CORS_SHARD_COUNT", "3"), ("JOB_COMPLETION_INDEX", "2")], shard(3, 3)),
            (
                &[],
                &[("S3CORS_SHARD_COUNT", "3"), ("S3CORS_SHARD_INDEX", "0"), ("JOB_COMPLETION_INDEX", "2")],
                shard(1, 3),
            ),
            (&["--shard", "2/4", "--shard-by", "account"], &[], by_account(2, 4)),
            (&["--shard", "2/4"], &[("S3CORS_SHARD_BY", "account")], by_account(2, 4)),
            (
                &["--shard", "2/4", "--shard-by", "bucket"],
                &[("S3CORS_SHARD_BY", "account")],
                shard(2, 4),
            ),
            (
                &[],
                &[("S3CORS_SHARD_COUNT", "3"), ("JOB_COMPLETION_INDEX", "0"), ("S3CORS_SHARD_BY", "account")],
                by_account(1, 3),
            ),
            // The environment's way to shard is ignored by commands that are not sharded.
            (&[], &[("S3CORS_SHARD_BY", "account")], Ok(None)),
            (
                &["--shard-by", "account"],
                &[],
                Err("--shard-by says how to shard, but no shard is named: add --shard K/N (or --shard-index I --shard-count N, or S3CORS_SHARD=K/N)".to_owned()),
            ),
            (
                &["--shard", "1/2"],
                &[("S3CORS_SHARD_BY", "owner")],
                Err("S3CORS_SHARD_BY: `owner` is not a way to shard: use bucket or account".to_owned()),
            ),
            (
                &["--shard-index", "4", "--shard-count", "4"],
                &[],
                Err("shard index 4 is not in 0..4 (0-based, as JOB_COMPLETION_INDEX)".to_owned()),
            ),
            (
                &[],
                &[("S3CORS_SHARD_COUNT", "3")],
                Err("S3CORS_SHARD_COUNT is set, but neither S3CORS_SHARD_INDEX nor JOB_COMPLETION_INDEX says which shard this is".to_owned()),
            ),
            (
                &[],
                &[("S3CORS_SHARD_COUNT", "3"), ("JOB_COMPLETION_INDEX", "x")],
                Err("JOB_COMPLETION_INDEX: `x` is not a shard index".to_owned()),
            ),
            (
                &[],
                &[("S3CORS_SHARD", "5/4")],
                Err("S3CORS_SHARD: `5/4` is not K/N with 1 <= K <= N (for example 2/8)".to_owned()),
            ),
        ];
        for (args, env, want) in cases {
            let g = global(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let lookup = |name: &str| {
                env.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            assert_eq!(g.resolve_shard(lookup), want, "{args:?} {env:?}");
        }
        // The two forms cannot be mixed, and each half needs the other.
        for args in [
            &["--shard", "1/2", "--shard-index", "0", "--shard-count", "2"][..],
            &["--shard-index", "0"],
            &["--shard-count", "2"],
            &["--shard", "1/2", "--shard-by", "owner"],
        ] {
            assert!(global(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn drift_merge_reads_reports_not_policies() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["s3cors", "drift"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).map(|c| match c.command {
                Command::Drift(d) => d.merge.len(),
                _ => usize::MAX,
            })
        };
        assert_eq!(parse(&["--merge", "a.json", "b.json"]).ok(), Some(2));
        assert_eq!(parse(&["policies"]).ok(), Some(0));
        for bad in [
            &["--merge"][..],
            &["--merge", "a.json", "--unmanaged"],
            &["policies", "--merge", "a.json"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shards_parse() {
        for (text, ok) in [
            ("1/1", true),
            ("2/8", true),
            ("0/3", false),
            ("4/3", false),
            ("x", false),
            ("1/0", false),
        ] {
            assert_eq!(text.parse::<Shard>().is_ok(), ok, "{text}");
        }
    }

    /// Every global option reads `S3CORS_` + its name in upper snake case, except
    /// the shard's, which `Global::resolve_shard` reads by hand (and `--help`
    /// names in their text).
    #[test]
    fn every_global_option_has_its_environment_variable() {
        let cmd = Cli::command();
        let mut seen = 0;
        for arg in cmd.get_arguments().filter(|a| a.is_global_set()) {
            let long = arg.get_long().expect("global options are long");
            let want = format!("S3CORS_{}", long.to_uppercase().replace('-', "_"));
            if long.starts_with("shard") {
                assert!(arg.get_env().is_none(), "{long}");
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(help.contains(&want), "--{long}'s help names {want}: {help}");
            } else {
                assert_eq!(
                    arg.get_env().and_then(|e| e.to_str()),
                    Some(want.as_str()),
                    "--{long}"
                );
            }
            seen += 1;
        }
        assert_eq!(seen, 17, "every global option is checked");
    }

    #[test]
    fn ci_means_no_input_unless_said_otherwise() {
        let global = |args: &[&str]| {
            let mut argv = vec!["s3cors"];
            argv.extend_from_slice(args);
            argv.push("validate");
            Cli::try_parse_from(argv).expect("parses").global
        };
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], bool);
        let cases: &[Case] = &[
            (&[], &[], false),
            (&["--no-input"], &[], true),
            (&[], &[("CI", "true")], true),
            (&[], &[("CI", "True")], true),
            (&[], &[("CI", "1")], true),
            (&[], &[("CI", "false")], false),
            (&[], &[("CI", "0")], false),
            (&[], &[("CI", "")], false),
            // clap has read S3CORS_NO_INPUT=false into the flag: it wins over CI.
            (&[], &[("CI", "true"), ("S3CORS_NO_INPUT", "false")], false),
            (&["--no-input"], &[("CI", "false")], true),
        ];
        for (args, env, want) in cases {
            let lookup = |name: &str| {
                env.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            assert_eq!(
                global(args).resolve_no_input(lookup),
                *want,
                "{args:?} {env:?}"
            );
        }
    }

    #[test]
    fn global_options_work_on_both_sides() {
        let before = Cli::try_parse_from(["s3cors", "--format", "json", "validate", "x"]).unwrap();
        let after = Cli::try_parse_from(["s3cors", "validate", "x", "--format", "json"]).unwrap();
        assert_eq!(before.global.format, Format::Json);
        assert_eq!(after.global.format, Format::Json);
    }
}
