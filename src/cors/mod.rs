//! How S3 evaluates CORS, as pure functions: wildcard patterns, the request simulator, and lints.
//!
//! Everything here takes plain values from [`crate::model`] and returns plain values:
//! no I/O, no printing. `explain` and `verify` use [`simulate`], `validate`, `plan` and
//! `drift` use [`lint`], and both rest on [`pattern`].
//!
//! The reference for every behaviour here is `S3-CORS.md` ("How Amazon S3 evaluates
//! CORS"); where it marks something unsure, the choice made is documented at the item.

pub mod lint;
pub mod pattern;
pub mod simulate;
