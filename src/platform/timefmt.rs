//! Timestamps as Graph writes them (RFC 3339, UTC).

use std::time::SystemTime;

/// Now, as `2026-11-29T10:15:00Z`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A file-name-safe form of now: `20261129T101500Z`.
pub fn now_compact() -> String {
    now_rfc3339().replace(['-', ':'], "")
}

/// Graph's `2026-11-29T10:15:00.1234567Z` for people: `2026-11-29 10:15:00 UTC`.
/// Anything that is not such a timestamp is shown as it came.
pub fn readable(graph_time: &str) -> String {
    let t = graph_time.trim();
    match t.strip_suffix('Z').and_then(|t| t.split_once('T')) {
        Some((date, time)) if date.len() == 10 => {
            let time = time.split('.').next().unwrap_or(time);
            format!("{date} {time} UTC")
        }
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn readable_times() {
        assert_eq!(
            super::readable("2020-06-26T13:58:24.7682084Z"),
            "2020-06-26 13:58:24 UTC"
        );
        assert_eq!(
            super::readable("2026-11-29T03:30:10Z"),
            "2026-11-29 03:30:10 UTC"
        );
        assert_eq!(super::readable("soon"), "soon");
    }

    #[test]
    fn formats() {
        let s = super::now_rfc3339();
        assert!(s.ends_with('Z') && s.len() == 20, "{s}");
        assert!(!super::now_compact().contains(':'));
    }
}
