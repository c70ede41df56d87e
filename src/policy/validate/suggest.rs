//! "Did you mean": the known name closest to what the user typed.

/// The known key the user most likely meant: same letters ignoring case and
/// separators, a plural/singular slip, a close spelling, or a known key ending
/// in what was typed (`origins` for `AllowedOrigins`).
pub(super) fn suggest<'k>(typed: &str, known: &[&'k str]) -> Option<&'k str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let typed_n = norm(typed);
    if typed_n.is_empty() {
        return None;
    }
    let mut best: Option<(&str, f64)> = None;
    for &k in known {
        let k_n = norm(k);
        let score = if k_n == typed_n {
            2.0
        } else if typed_n.len() >= 4 && (k_n.ends_with(&typed_n) || typed_n.ends_with(&k_n)) {
            1.5
        } else {
            strsim::jaro_winkler(&typed_n, &k_n)
        };
        if score >= 0.85 && best.is_none_or(|(_, s)| score > s) {
            best = Some((k, score));
        }
    }
    best.map(|(k, _)| k)
}
