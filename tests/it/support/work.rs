//! A scratch working directory with policies, the `s3cors` binary run in it
//! against moto, and the bucket helpers the reconcile-loop tests share.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use s3cors::model::{CorsConfig, CorsRule, Method};
use s3cors::s3::{BucketTarget, S3Api};
use serde_json::Value;

use super::{aws_s3, create_bucket, moto, unique_bucket};

/// A scratch working directory with a `policies/` folder.
pub struct Work {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
}

impl Work {
    pub fn new() -> Work {
        Work {
            dir: tempfile::tempdir().expect("temp dir"),
            endpoint: moto().endpoint().to_owned(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `policies/NAME` with `text`.
    pub fn policy(&self, name: &str, text: &str) {
        let path = self.path("policies").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Writes `policies/p.yaml` managing each `(bucket, origin)` with [`entry`].
    pub fn manage(&self, buckets: &[(&str, &str)]) {
        let entries: String = buckets.iter().map(|(b, o)| entry(b, o)).collect();
        self.policy("p.yaml", &format!("version: 1\nbuckets:\n{entries}"));
    }

    /// A scratch dir whose runs go through `proxy` instead of straight to moto.
    pub fn through(proxy: &super::Proxy) -> Work {
        let mut w = Work::new();
        w.endpoint = proxy.endpoint().to_owned();
        w
    }

    /// Runs `s3cors ARGS` in the scratch dir against moto.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::cargo_bin("s3cors")
            .unwrap()
            .current_dir(self.dir.path())
            .envs(super::aws_env(&self.endpoint))
            .args(["--path-style", "--color", "never"])
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .expect("running s3cors")
    }

    /// Runs and asserts the exit code, returning stdout.
    pub fn ok(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(code),
            "s3cors {args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        stdout
    }

    /// `plan --format json` as a value.
    pub fn plan_json(&self, extra: &[&str]) -> Value {
        let mut args = vec!["plan", "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "plan json: {e}\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

/// `{bucket: action}` from a plan report.
pub fn actions(report: &Value) -> Vec<(String, String)> {
    report["buckets"]
        .as_array()
        .expect("buckets array")
        .iter()
        .map(|b| {
            (
                b["bucket"].as_str().unwrap().to_owned(),
                b["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub fn rule(origins: &[&str], methods: &[Method], headers: &[&str]) -> CorsRule {
    CorsRule {
        allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
        allowed_methods: methods.to_vec(),
        allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
        ..CorsRule::default()
    }
}

pub fn cfg(rules: Vec<CorsRule>) -> CorsConfig {
    CorsConfig::new(rules)
}

pub async fn live(bucket: &str) -> Option<CorsConfig> {
    aws_s3(moto().endpoint())
        .await
        .get_cors(&BucketTarget::new(bucket))
        .await
        .unwrap_or_else(|e| panic!("reading {bucket}: {e}"))
}

pub async fn put(bucket: &str, config: &CorsConfig) {
    aws_s3(moto().endpoint())
        .await
        .put_cors(&BucketTarget::new(bucket), config)
        .await
        .unwrap_or_else(|e| panic!("writing {bucket}: {e}"));
}

pub async fn bucket_with(prefix: &str, config: Option<&CorsConfig>) -> String {
    let name = unique_bucket(prefix);
    create_bucket(moto().endpoint(), &name).await;
    if let Some(c) = config {
        put(&name, c).await;
    }
    name
}

/// The one-rule policy entry `origin` GET from a bucket.
pub fn entry(bucket: &str, origin: &str) -> String {
    format!(
        "  - name: {bucket}\n    rules:\n      - AllowedOrigins: [\"{origin}\"]\n        AllowedMethods: [GET]\n        AllowedHeaders: [Authorization]\n"
    )
}

pub fn get_rule(origin: &str) -> CorsConfig {
    cfg(vec![rule(&[origin], &[Method::Get], &["Authorization"])])
}
