//! The lock that stops two applies or rollbacks of one plan from running at once:
//! an exclusive `flock` on `PLAN.lock` beside the plan file, held for the whole
//! run and released by the operating system when the process ends, however it
//! ends (kill -9 included), so a lock is never left stale.
//!
//! The holder writes who it is into the file, so the one refused can say who
//! holds it. The lock works between processes on one machine (or on a shared
//! file system with working `flock`); runners on different machines need the
//! plan applied from one place.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct PlanLock {
    _file: File,
}

/// `PLAN.lock`, beside the plan.
pub fn lock_path(plan_path: &Path) -> PathBuf {
    let mut name = plan_path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of `plan_path` for `command`, waiting up to `timeout` for a
/// holder to finish.
pub async fn acquire(
    plan_path: &Path,
    command: &str,
    timeout: Duration,
) -> anyhow::Result<PlanLock> {
    let path = lock_path(plan_path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening the lock file {}", path.display()))?;
    let deadline = Instant::now() + timeout;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    let holder = holder(&mut file);
                    bail!(
                        "{} is locked by {holder}; wait for it to finish, or pass --lock-timeout \
                         SECONDS to wait for it (the lock is released when that process ends, \
                         even if it is killed)",
                        plan_path.display()
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
    }
    let me = format!(
        "s3cors {command} (pid {}{}, since {})\n",
        std::process::id(),
        host().map(|h| format!(" on {h}")).unwrap_or_default(),
        super::utc_now()
    );
    // Who holds it is for messages only: a failure to write it does not matter.
    let _ = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(me.as_bytes()));
    Ok(PlanLock { _file: file })
}

/// What the holder wrote, made safe to print.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.take(512).read_to_string(&mut text));
    let text: String = text.trim().chars().filter(|c| !c.is_control()).collect();
    if text.is_empty() {
        "another s3cors process".to_owned()
    } else {
        text
    }
}

fn host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_is_refused_and_named_then_admitted_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("p.plan.json");
        let first = acquire(&plan, "apply", Duration::ZERO).await.unwrap();
        let refused = acquire(&plan, "rollback", Duration::from_millis(250))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("is locked by s3cors apply (pid "),
            "{refused}"
        );
        assert!(refused.contains("--lock-timeout"), "{refused}");
        drop(first);
        acquire(&plan, "rollback", Duration::ZERO).await.unwrap();
    }

    #[tokio::test]
    async fn a_waiter_gets_the_lock_when_the_holder_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("p.plan.json");
        let first = acquire(&plan, "apply", Duration::ZERO).await.unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            drop(first);
        });
        acquire(&plan, "apply", Duration::from_secs(10))
            .await
            .unwrap();
        release.await.unwrap();
    }
}
