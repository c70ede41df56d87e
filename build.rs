//! Records the commit s3cors is built from, for `s3cors --version`
//! (`0.1.0 (abc1234)`), as the `S3CORS_COMMIT` compile-time variable:
//!
//! 1. in a git checkout of this crate (the checkout's top is this folder, so a
//!    crate unpacked inside another repository does not take that one's commit):
//!    `git rev-parse --short HEAD`;
//! 2. else `S3CORS_BUILD_COMMIT` (the Dockerfile passes it: its build context
//!    has no `.git`);
//! 3. else `unknown` (an install from the package registry).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=S3CORS_BUILD_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let commit = git_commit(&dir)
        .or_else(|| {
            std::env::var("S3CORS_BUILD_COMMIT")
                .ok()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric()))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=S3CORS_COMMIT={commit}");
}

/// `git` in `dir` with `args`, its trimmed stdout if it succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The short commit of HEAD when `dir` is the top of a git checkout, watching the
/// files that change with it: HEAD, the branch's ref, and packed-refs (paths
/// from git, so worktrees work too).
fn git_commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), dir) {
        return None;
    }
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(dir, &["rev-parse", "--short", "HEAD"])
}
