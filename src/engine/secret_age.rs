//! How old a SCIM secret is and when it expires: the 30-day warning the
//! window, `status`, the report and the drift check all show.

use std::time::{Duration, SystemTime};

use serde::Serialize;

/// Days before `expiresAt` from which every surface warns.
pub const WARN_DAYS: i64 = 30;

const DAY: u64 = 86_400;

/// One secret's age and expiry, as of one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretAge {
    /// Whole days since `createdAt`; `None` when it could not be read.
    pub age_days: Option<i64>,
    /// Orchidea's `expiresAt`, as given; `None`: it does not expire.
    pub expires_at: Option<String>,
    /// Whole days left (negative once expired); `None` when it does not
    /// expire or the time could not be read.
    pub expires_in_days: Option<i64>,
    /// Set from [`WARN_DAYS`] before expiry, and once expired.
    pub warning: Option<String>,
}

/// Reads an RFC 3339 time; offsets other than `Z` are accepted as Orchidea
/// may write `+00:00`.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    let t = text.trim();
    if let Ok(at) = humantime::parse_rfc3339_weak(t.trim_end_matches('Z'))
        && (t.ends_with('Z') || !has_offset(t))
    {
        return Some(at);
    }
    // `2026-03-01T10:15:00+02:00`: shift to UTC by hand.
    let (body, sign, offset) = split_offset(t)?;
    let local = humantime::parse_rfc3339_weak(body).ok()?;
    let (h, m) = offset.split_once(':')?;
    let secs = h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60;
    let shift = Duration::from_secs(secs);
    if sign == '+' {
        local.checked_sub(shift)
    } else {
        local.checked_add(shift)
    }
}

fn has_offset(t: &str) -> bool {
    split_offset(t).is_some()
}

fn split_offset(t: &str) -> Option<(&str, char, &str)> {
    let time_start = t.find('T')?;
    let rest = &t[time_start..];
    let at = rest.rfind(['+', '-'])?;
    let sign = rest[at..].chars().next()?;
    Some((&t[..time_start + at], sign, &rest[at + 1..]))
}

/// Whole days from `from` to `to`, negative when `to` is earlier; partial
/// days round toward "sooner" so an expiry is never shown later than it is.
fn days_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(d) => i64::try_from(d.as_secs() / DAY).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs().div_ceil(DAY)).unwrap_or(i64::MAX),
    }
}

impl SecretAge {
    /// The age and expiry of a secret created at `created_at` and expiring
    /// at `expires_at` (both RFC 3339), as of `now`. `what` names the
    /// secret in the warning ("SCIM secret …Qk9a").
    pub fn of(
        what: &str,
        created_at: Option<&str>,
        expires_at: Option<&str>,
        now: SystemTime,
    ) -> SecretAge {
        let age_days = created_at
            .and_then(parse_time)
            .map(|c| days_between(c, now).max(0));
        let expires_at = expires_at.map(str::trim).filter(|e| !e.is_empty());
        let expires_in_days = expires_at
            .and_then(parse_time)
            .map(|e| days_between(now, e));
        let warning = match (expires_at, expires_in_days) {
            (Some(at), Some(days)) if days < 0 => Some(format!(
                "{what} expired on {}: Entra's provisioning is refused until it is rotated.",
                crate::platform::timefmt::readable(at)
            )),
            (Some(at), Some(days)) if days <= WARN_DAYS => Some(format!(
                "{what} expires in {days} day{} ({}): rotate it before then.",
                if days == 1 { "" } else { "s" },
                crate::platform::timefmt::readable(at)
            )),
            (Some(at), None) => Some(format!(
                "{what} has an expiry Orchidea wrote as \"{at}\", which could not be read: check it in Orchidea's web UI."
            )),
            _ => None,
        };
        SecretAge {
            age_days,
            expires_at: expires_at.map(str::to_string),
            expires_in_days,
            warning,
        }
    }

    /// "created 12 days ago; expires in 40 days (2027-01-13 00:00:00 UTC)".
    pub fn describe(&self) -> String {
        let age = match self.age_days {
            Some(0) => "created today".to_string(),
            Some(1) => "created 1 day ago".to_string(),
            Some(d) => format!("created {d} days ago"),
            None => "age unknown".to_string(),
        };
        let expiry = match (&self.expires_at, self.expires_in_days) {
            (None, _) => "does not expire".to_string(),
            (Some(at), Some(d)) if d >= 0 => format!(
                "expires in {d} day{} ({})",
                if d == 1 { "" } else { "s" },
                crate::platform::timefmt::readable(at)
            ),
            (Some(at), Some(_)) => {
                format!("expired {}", crate::platform::timefmt::readable(at))
            }
            (Some(at), None) => format!("expires \"{at}\""),
        };
        format!("{age}; {expiry}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        parse_time(text).unwrap()
    }

    fn age(expires: &str) -> SecretAge {
        SecretAge::of(
            "SCIM secret …Qk9a",
            Some("2026-01-01T00:00:00Z"),
            Some(expires),
            at("2026-03-01T12:00:00Z"),
        )
    }

    #[test]
    fn warns_from_thirty_days_before_expiry_and_once_expired() {
        let far = age("2026-04-01T12:00:01Z");
        assert_eq!(far.expires_in_days, Some(31));
        assert_eq!(far.warning, None);
        let thirty = age("2026-03-31T12:00:00Z");
        assert_eq!(thirty.expires_in_days, Some(30));
        assert!(
            thirty
                .warning
                .as_deref()
                .unwrap()
                .contains("expires in 30 days")
        );
        let today = age("2026-03-01T18:00:00Z");
        assert_eq!(today.expires_in_days, Some(0));
        assert!(
            today
                .warning
                .as_deref()
                .unwrap()
                .contains("expires in 0 days")
        );
        let gone = age("2026-02-28T12:00:00Z");
        assert_eq!(gone.expires_in_days, Some(-1));
        assert!(
            gone.warning
                .as_deref()
                .unwrap()
                .contains("expired on 2026-02-28")
        );
        // Expired a moment ago is expired, not "0 days left".
        let just = age("2026-03-01T11:59:59Z");
        assert!(
            just.warning.as_deref().unwrap().contains("expired"),
            "{just:?}"
        );
    }

    #[test]
    fn age_and_no_expiry() {
        let a = SecretAge::of(
            "s",
            Some("2026-01-01T00:00:00Z"),
            None,
            at("2026-03-01T12:00:00Z"),
        );
        assert_eq!(a.age_days, Some(59));
        assert_eq!(a.warning, None);
        assert_eq!(a.describe(), "created 59 days ago; does not expire");
        let blank = SecretAge::of("s", None, Some(" "), at("2026-03-01T12:00:00Z"));
        assert_eq!(blank.expires_at, None);
        assert_eq!(blank.describe(), "age unknown; does not expire");
    }

    #[test]
    fn offsets_and_fractions_are_read_and_bad_times_warned() {
        assert_eq!(at("2026-03-01T12:00:00+02:00"), at("2026-03-01T10:00:00Z"));
        assert_eq!(at("2026-03-01T12:00:00-01:30"), at("2026-03-01T13:30:00Z"));
        assert_eq!(
            at("2026-03-01T10:00:00.1234567Z"),
            at("2026-03-01T10:00:00.1234567Z")
        );
        assert!(parse_time("next week").is_none());
        let odd = age("next week");
        assert!(
            odd.warning
                .as_deref()
                .unwrap()
                .contains("could not be read")
        );
    }
}
