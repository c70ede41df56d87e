//! `watch`'s metrics, in the Prometheus project's Rust client: what the last
//! drift check found, how long checks take, and every S3 call so far. Encoded in
//! the OpenMetrics text format, which Prometheus scrapes (and reads as its own
//! text format's successor).

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::plan::drift::{self, DriftReport};

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BucketLabels {
    state: &'static str,
    /// The 12-digit account, or empty for the caller's own.
    account: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GuardrailLabels {
    guardrail: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    outcome: &'static str,
}

/// Every metric `watch` exports.
pub struct Metrics {
    registry: Registry,
    buckets: Family<BucketLabels, Gauge>,
    violations: Family<GuardrailLabels, Gauge>,
    requests: Family<RequestLabels, Counter>,
    cycle_duration: Histogram,
    last_success: Gauge<f64, AtomicU64>,
    policy_load_errors: Gauge,
    reconcile_writes: Family<WriteLabels, Counter>,
    /// One encoding at a time: the request counters are brought up to date first.
    encoding: Mutex<()>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let buckets = Family::<BucketLabels, Gauge>::default();
        registry.register(
            "s3cors_buckets",
            "Managed buckets by state in the last complete check (in_sync, drifted, missing: the bucket does not exist, unreadable)",
            buckets.clone(),
        );
        let violations = Family::<GuardrailLabels, Gauge>::default();
        registry.register(
            "s3cors_guardrail_violations",
            "Live configurations that break a guardrail, in the last complete check",
            violations.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "s3cors_s3_requests",
            "S3 calls made, by operation and outcome (ok or the error kind), counted once after retries",
            requests.clone(),
        );
        // 0.25 s to about 2.3 hours.
        let cycle_duration = Histogram::new(exponential_buckets(0.25, 2.0, 16));
        registry.register(
            "s3cors_cycle_duration_seconds",
            "Time each drift check took",
            cycle_duration.clone(),
        );
        let last_success = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "s3cors_last_cycle_success_timestamp_seconds",
            "Unix time at which the last check that read every bucket ended",
            last_success.clone(),
        );
        let policy_load_errors = Gauge::default();
        registry.register(
            "s3cors_policy_load_errors",
            "Errors in the policy files as last read (the last good policies stay in force while this is above 0)",
            policy_load_errors.clone(),
        );
        let reconcile_writes = Family::<WriteLabels, Counter>::default();
        registry.register(
            "s3cors_reconcile_writes",
            "Buckets watch --reconcile wrote (ok: read back as written) or failed to write",
            reconcile_writes.clone(),
        );
        for outcome in ["ok", "failed"] {
            let _ = reconcile_writes.get_or_create(&WriteLabels { outcome });
        }
        Metrics {
            registry,
            reconcile_writes,
            buckets,
            violations,
            requests,
            cycle_duration,
            last_success,
            policy_load_errors,
            encoding: Mutex::new(()),
        }
    }

    /// Records a complete check: its report, how long it took, and whether it
    /// read every bucket (`success`).
    pub fn record_check(&self, report: &DriftReport, took: Duration, success: bool) {
        self.buckets.clear();
        for ((account, state), n) in drift::state_counts(report) {
            let labels = BucketLabels {
                state,
                account: account.unwrap_or_default().to_owned(),
            };
            self.buckets.get_or_create(&labels).set(gauge_value(n));
        }
        self.violations.clear();
        for (guardrail, n) in drift::violation_counts(report) {
            let labels = GuardrailLabels {
                guardrail: guardrail.to_owned(),
            };
            self.violations.get_or_create(&labels).set(gauge_value(n));
        }
        self.record_duration(took);
        if success {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            self.last_success.set(now.as_secs_f64());
        }
    }

    /// Records how long a check took, also one that did not complete.
    pub fn record_duration(&self, took: Duration) {
        self.cycle_duration.observe(took.as_secs_f64());
    }

    /// Sets the number of errors in the policy files as last read.
    pub fn set_policy_load_errors(&self, errors: usize) {
        self.policy_load_errors.set(gauge_value(errors));
    }

    /// Counts one bucket written by `--reconcile` (`ok`), or one it failed to write.
    pub fn record_reconcile_write(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "failed" };
        self.reconcile_writes
            .get_or_create(&WriteLabels { outcome })
            .inc();
    }

    /// Every metric in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let _one = self.encoding.lock().unwrap_or_else(|e| e.into_inner());
        for (operation, outcome, total) in crate::s3::requests::counts() {
            let counter = self
                .requests
                .get_or_create(&RequestLabels { operation, outcome });
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
