//! Renderers: plain data in, text out. Nothing here prints or touches the outside.

pub mod diagnostics;
pub mod junit;
pub mod sarif;
