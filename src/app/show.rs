//! `s3cors show PLAN_FILE...`: render a saved plan as `plan` does; the plans of
//! every shard of one run are shown as one plan.

use anyhow::Context;

use super::{Exit, Outcome};
use crate::cli::{Format, Global, ShowArgs};
use crate::plan::file::{PlanFile, merge_shards};

pub fn run(global: &Global, args: &ShowArgs, color: bool) -> anyhow::Result<Outcome> {
    let (header, plan, shard) = match args.plan_files.as_slice() {
        [path] => {
            let file = read_plan(path)?;
            // A plan file may come from elsewhere (a CI artifact): its values are
            // shown, never obeyed, and an old file's endpoint password is not shown.
            let header = format!(
                "Plan {} made {} by s3cors {} against {} ({}).",
                path.display(),
                file.created_at,
                file.tool_version,
                file.endpoint.without_userinfo(),
                file.region,
            );
            (header, file.to_plan(), file.shard)
        }
        paths => {
            let files = paths
                .iter()
                .map(|p| Ok((p.display().to_string(), read_plan(p)?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let plan = merge_shards(&files)
                .map_err(|e| anyhow::anyhow!("the plans cannot be shown as one: {e}"))?;
            let header = format!(
                "Plan of {} shards ({}), shown as one.",
                files.len(),
                files
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            (header, plan, None)
        }
    };
    let mut stdout = String::new();
    if global.format == Format::Human {
        stdout.push_str(&crate::text::terminal_safe(&header));
        stdout.push_str("\n\n");
    }
    stdout.push_str(&super::plan::render_plan(
        global.format,
        &plan,
        color,
        shard,
        global.verbose > 0,
    ));
    let exit = if plan.errors.is_empty() {
        Exit::Success
    } else {
        Exit::Error
    };
    Ok(Outcome::new(stdout, exit))
}

/// Reads and checks a saved plan file.
pub fn read_plan(path: &std::path::Path) -> anyhow::Result<PlanFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the plan file {}", path.display()))?;
    PlanFile::from_json(&text).with_context(|| format!("{} is not a usable plan", path.display()))
}
