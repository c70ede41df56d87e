//! ANSI styles for the human renderings of plans, reports and explanations: one
//! place for the escape codes, and [`paint`] to apply them only when colour is on.
//!
//! **Invariant:** pure; depends on nothing else in the crate, so any renderer may use it.

pub const RED: &str = "\x1b[31m";
pub const GREEN: &str = "\x1b[32m";
pub const YELLOW: &str = "\x1b[33m";
pub const BOLD: &str = "\x1b[1m";
pub const DIM: &str = "\x1b[2m";
pub const RESET: &str = "\x1b[0m";

/// `text` in `style` when `color` is on, else `text` as it is.
pub fn paint(color: bool, style: &str, text: &str) -> String {
    if color {
        format!("{style}{text}{RESET}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_only_with_colour() {
        assert_eq!(paint(false, RED, "x"), "x");
        assert_eq!(paint(true, RED, "x"), "\x1b[31mx\x1b[0m");
    }
}
