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

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        let s = super::now_rfc3339();
        assert!(s.ends_with('Z') && s.len() == 20, "{s}");
        assert!(!super::now_compact().contains(':'));
    }
}
