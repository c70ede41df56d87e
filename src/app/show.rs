//! `s3cors show PLAN_FILE`: render a saved plan as `plan` does.

use anyhow::Context;

use super::{Exit, Outcome};
use crate::cli::{Format, Global, ShowArgs};
use crate::plan::file::PlanFile;

pub fn run(global: &Global, args: &ShowArgs, color: bool) -> anyhow::Result<Outcome> {
    let file = read_plan(&args.plan_file)?;
    let mut stdout = String::new();
    if global.format == Format::Human {
        // A plan file may come from elsewhere (a CI artifact): its values are shown,
        // never obeyed, and an old file's endpoint password is not shown.
        let endpoint = file.endpoint.without_userinfo();
        let header = format!(
            "Plan {} made {} by s3cors {} against {} ({}).",
            args.plan_file.display(),
            file.created_at,
            file.tool_version,
            endpoint,
            file.region,
        );
        stdout.push_str(&crate::text::terminal_safe(&header));
        stdout.push_str("\n\n");
    }
    let plan = file.to_plan();
    stdout.push_str(&super::plan::render_plan(global.format, &plan, color));
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
