//! The command line: every command and option, as clap types. No behaviour here.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Declarative policy-as-code for Amazon S3 bucket CORS configurations.
#[derive(Debug, Parser)]
#[command(name = "s3cors", version, about, long_about = None, propagate_version = true)]
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
        global = true,
        value_name = "URL",
        help_heading = "Global options"
    )]
    pub endpoint_url: Option<String>,
    /// AWS region for calls whose bucket region is not known; AWS_REGION works too
    #[arg(
        long,
        global = true,
        value_name = "REGION",
        help_heading = "Global options"
    )]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config; AWS_PROFILE works too
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Global options"
    )]
    pub profile: Option<String>,
    /// Address buckets as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT
    #[arg(long, global = true, help_heading = "Global options")]
    pub path_style: bool,
    /// Most S3 calls in flight at once
    #[arg(long, global = true, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=1024), help_heading = "Global options")]
    pub parallelism: u16,
    /// Work on shard K of N (1-based): a stable split of the buckets for CI matrices
    #[arg(
        long,
        global = true,
        value_name = "K/N",
        help_heading = "Global options"
    )]
    pub shard: Option<Shard>,
    /// Output format of reports
    #[arg(long, global = true, value_enum, default_value_t = Format::Human, help_heading = "Global options")]
    pub format: Format,
    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Global options")]
    pub color: ColorChoice,
    /// More log output on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    /// Only errors on stderr, no progress
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `K/N`: shard K (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
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
        Ok(Shard { index, count })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, validate and lint policy files; offline, no AWS calls
    Validate(ValidateArgs),
    /// Print the JSON Schema of policy files (for editors' YAML language servers)
    Schema,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
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

    #[test]
    fn global_options_work_on_both_sides() {
        let before = Cli::try_parse_from(["s3cors", "--format", "json", "validate", "x"]).unwrap();
        let after = Cli::try_parse_from(["s3cors", "validate", "x", "--format", "json"]).unwrap();
        assert_eq!(before.global.format, Format::Json);
        assert_eq!(after.global.format, Format::Json);
    }
}
