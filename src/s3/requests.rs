//! How many S3 calls this process made, by operation and outcome: what `watch`
//! exports as `s3cors_s3_requests_total`. A call is counted once, when it ends
//! (after its throttling retries), with `ok` or its error kind.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::S3ErrorKind;

/// (operation, outcome) → calls.
static COUNTS: Mutex<BTreeMap<(&'static str, &'static str), u64>> = Mutex::new(BTreeMap::new());

/// Counts one finished call of `op`: `None` when it succeeded.
pub(super) fn record(op: &'static str, error: Option<&S3ErrorKind>) {
    let outcome = error.map_or("ok", outcome);
    // A poisoned lock only means another thread panicked while counting.
    let mut counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
    *counts.entry((op, outcome)).or_default() += 1;
}

/// Every (operation, outcome) counted so far, with its count, in order.
pub fn counts() -> Vec<(&'static str, &'static str, u64)> {
    let counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
    counts.iter().map(|(&(op, out), &n)| (op, out, n)).collect()
}

/// The outcome label of a failed call.
fn outcome(kind: &S3ErrorKind) -> &'static str {
    match kind {
        S3ErrorKind::NoSuchBucket => "no_such_bucket",
        S3ErrorKind::AccessDenied => "access_denied",
        S3ErrorKind::InvalidRequest | S3ErrorKind::MalformedXml => "invalid_request",
        S3ErrorKind::Throttled => "throttled",
        S3ErrorKind::WrongRegion { .. } => "wrong_region",
        S3ErrorKind::Network => "network",
        S3ErrorKind::NoCredentials => "no_credentials",
        S3ErrorKind::TimedOut => "timed_out",
        S3ErrorKind::MalformedAnswer => "malformed_answer",
        S3ErrorKind::Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_by_operation_and_outcome() {
        let before = |op, out| {
            counts()
                .into_iter()
                .find(|&(o, r, _)| o == op && r == out)
                .map_or(0, |(_, _, n)| n)
        };
        let (ok, throttled) = (before("TestOp", "ok"), before("TestOp", "throttled"));
        record("TestOp", None);
        record("TestOp", None);
        record("TestOp", Some(&S3ErrorKind::Throttled));
        assert_eq!(before("TestOp", "ok"), ok + 2);
        assert_eq!(before("TestOp", "throttled"), throttled + 1);
    }
}
