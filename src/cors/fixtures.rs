//! Test fixtures shared by the CORS tests: a rule builder and the three example
//! example configurations A, B and C (the ones `examples/` ships), so every test of the
//! simulator, the lints and `verify` reasons about the same rules.

use crate::cors::verify::Observed;
use crate::model::{CorsConfig, CorsRule};

/// A rule with these methods, origins and allowed headers, and nothing else.
pub fn rule(methods: &[&str], origins: &[&str], headers: &[&str]) -> CorsRule {
    CorsRule {
        allowed_headers: headers.iter().map(|h| h.to_string()).collect(),
        allowed_methods: methods.iter().filter_map(|m| m.parse().ok()).collect(),
        allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
        ..CorsRule::default()
    }
}

/// Example A: one specific origin, two headers (examples/one-origin.yaml).
pub fn example_a() -> CorsConfig {
    CorsConfig::new(vec![CorsRule {
        expose_headers: vec!["ETag".into()],
        max_age_seconds: Some(86400),
        ..rule(
            &["GET", "HEAD"],
            &["https://app.example.com"],
            &["Content-Type", "Authorization"],
        )
    }])
}

/// Example B: every origin may read (examples/public-assets.yaml).
pub fn example_b() -> CorsConfig {
    CorsConfig::new(vec![CorsRule {
        max_age_seconds: Some(3600),
        ..rule(&["GET", "HEAD"], &["*"], &["*"])
    }])
}

/// Example C: reads from two origins, writes from the admin origin
/// (examples/two-rules.yaml).
pub fn example_c() -> CorsConfig {
    CorsConfig::new(vec![
        CorsRule {
            expose_headers: vec!["ETag".into(), "x-amz-request-id".into()],
            max_age_seconds: Some(86400),
            ..rule(
                &["GET", "HEAD"],
                &["https://app.example.com", "https://cdn.example.com"],
                &["*"],
            )
        },
        CorsRule {
            max_age_seconds: Some(3600),
            ..rule(
                &["PUT", "POST"],
                &["https://admin.example.com"],
                &["Content-Type", "Authorization"],
            )
        },
    ])
}

/// A response `verify` observed: `status` and these headers, no S3 error code.
pub fn observed(status: u16, headers: &[(&str, &str)]) -> Observed {
    Observed {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        error_code: None,
    }
}
