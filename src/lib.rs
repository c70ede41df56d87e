//! s3cors: declarative policy-as-code for Amazon S3 bucket CORS configurations.
//!
//! See ARCHITECTURE.md for the code map and the invariants that keep the core pure.

// Only `main` prints: everything in the library returns text for it to print.
#![deny(clippy::print_stdout, clippy::print_stderr)]

// The pure core: no I/O, no async, no AWS SDK.
pub mod cors;
pub mod diag;
pub mod endpoint;
pub mod model;
pub mod plan;
pub mod policy;
pub mod render;
pub mod style;
pub mod text;

// The shell.
pub mod app;
pub mod cli;
pub mod probe;
pub mod s3;
