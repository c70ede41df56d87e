//! The integration tests, as one crate so the AWS SDK is linked once and every
//! test runs in one process, in parallel. Each module is one area; `support` is the
//! shared harness (servers, buckets, the proxy, a scratch folder).
//!
//! Offline modules (no S3 server needed): `action`, `cli_validate`, `docs_and_schema`,
//! `env_vars`, `explain_cli`, `fuzz_inputs`, `recipes`; `scripts/test --offline` runs only those.

mod support;

mod accounts;
mod action;
mod action_run;
mod apply_trust;
mod browser;
mod ci_formats;
mod cli_contract;
mod cli_validate;
mod docs_and_schema;
mod env_vars;
mod explain_cli;
mod explain_live;
mod faults;
mod fleet;
mod fuzz_inputs;
mod localstack_smoke;
mod recipes;
mod reconcile;
mod s3_layer;
mod status_page;
mod verify_cdn;
mod verify_localstack;
mod watch;
