//! Conversion between the SDK's CORS types and [`crate::model`], keeping rule order,
//! value order and values exactly.

use aws_sdk_s3::error::BuildError;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule as SdkCorsRule};

use crate::model::{CorsConfig, CorsRule, Method};

/// The model's rules as S3 returned them. An `AllowedMethod` the model cannot hold
/// (S3 only stores the five it accepts, but other servers may not check) is an error
/// naming the value, never a panic.
pub(crate) fn cors_from_sdk(rules: &[SdkCorsRule]) -> Result<CorsConfig, String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let allowed_methods = r
                .allowed_methods()
                .iter()
                .map(|m| {
                    m.parse::<Method>().map_err(|()| {
                        format!(
                            "the server returned CORS rule {} with AllowedMethod {m:?}, \
                             which is not one of GET, PUT, POST, DELETE, HEAD",
                            i + 1
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(CorsRule {
                id: r.id().map(str::to_owned),
                allowed_headers: r.allowed_headers().to_vec(),
                allowed_methods,
                allowed_origins: r.allowed_origins().to_vec(),
                expose_headers: r.expose_headers().to_vec(),
                max_age_seconds: r.max_age_seconds(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(CorsConfig::new)
}

/// The SDK's configuration for a model configuration. Empty optional lists are left
/// out of the XML, as the console does.
pub(crate) fn cors_to_sdk(cfg: &CorsConfig) -> Result<CorsConfiguration, BuildError> {
    let rules = cfg
        .cors_rules
        .iter()
        .map(|r| {
            SdkCorsRule::builder()
                .set_id(r.id.clone())
                .set_allowed_headers(non_empty(&r.allowed_headers))
                .set_allowed_methods(Some(
                    r.allowed_methods
                        .iter()
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                ))
                .set_allowed_origins(Some(r.allowed_origins.clone()))
                .set_expose_headers(non_empty(&r.expose_headers))
                .set_max_age_seconds(r.max_age_seconds)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
}

fn non_empty(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: Option<&str>, methods: &[Method], max_age: Option<i32>) -> CorsRule {
        CorsRule {
            id: id.map(str::to_owned),
            allowed_headers: vec!["Content-Type".into(), "authorization".into()],
            allowed_methods: methods.to_vec(),
            allowed_origins: vec![
                "https://b.example.com".into(),
                "https://a.example.com".into(),
            ],
            expose_headers: vec![],
            max_age_seconds: max_age,
        }
    }

    #[test]
    fn round_trips_through_sdk_types_exactly() {
        let configs = [
            CorsConfig::new(vec![rule(None, &[Method::Head, Method::Get], Some(0))]),
            CorsConfig::new(vec![
                rule(
                    Some("first"),
                    &[Method::Put, Method::Post, Method::Delete],
                    None,
                ),
                rule(Some(""), &[Method::Get], Some(86400)),
                CorsRule {
                    allowed_methods: vec![Method::Get],
                    allowed_origins: vec!["*".into()],
                    expose_headers: vec!["ETag".into(), "x-amz-request-id".into()],
                    ..CorsRule::default()
                },
            ]),
        ];
        for cfg in configs {
            let sdk = cors_to_sdk(&cfg).expect("model rules always build");
            let back = cors_from_sdk(sdk.cors_rules()).expect("model methods always parse");
            assert_eq!(back, cfg);
        }
    }

    #[test]
    fn unknown_method_from_server_is_an_error_naming_it() {
        let sdk = SdkCorsRule::builder()
            .allowed_methods("GET")
            .allowed_methods("PATCH")
            .allowed_origins("*")
            .build()
            .expect("required fields set");
        let err = cors_from_sdk(&[sdk]).expect_err("PATCH is not a model method");
        assert!(err.contains("rule 1") && err.contains("\"PATCH\""), "{err}");
    }
}
