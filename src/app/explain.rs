//! `s3cors explain`: being built (issue #4).

use super::Outcome;
use crate::cli::{ExplainArgs, Global};

pub async fn run(_global: &Global, _args: &ExplainArgs, _color: bool) -> anyhow::Result<Outcome> {
    anyhow::bail!("`s3cors explain` is not built yet")
}
