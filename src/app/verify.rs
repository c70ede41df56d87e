//! `s3cors verify`: being built (issue #4).

use super::Outcome;
use crate::cli::{Global, VerifyArgs};

pub async fn run(_global: &Global, _args: &VerifyArgs, _color: bool) -> anyhow::Result<Outcome> {
    anyhow::bail!("`s3cors verify` is not built yet")
}
