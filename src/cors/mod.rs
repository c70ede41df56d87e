//! How S3 evaluates CORS, as pure functions: wildcard patterns, the request simulator, and lints.
//!
//! Everything here takes plain values from [`crate::model`] and returns plain values:
//! no I/O, no printing. `explain` and `verify` use [`simulate`], `validate`, `plan` and
//! `drift` use [`lint`], and both rest on [`pattern`]. [`verify`] derives `verify`'s test
//! matrix and judges responses, and [`explain`] turns a simulation into `explain`'s
//! versioned answer and its renderings. [`browser`] says what the browser then does
//! with S3's answers (the Fetch standard's CORS checks), for both.
//!
//! The reference for every behaviour here is docs/s3-cors-semantics.md (how Amazon S3
//! validates and evaluates CORS, with its sources); where it marks something unsure,
//! the choice made is documented at the item.

pub mod browser;
pub mod explain;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod lint;
pub mod origin;
pub mod pattern;
pub mod simulate;
pub mod verify;
