//! A string that must never be printed: SCIM secrets, bearer tokens.
//!
//! `Debug` and `Display` redact, the type is not `Serialize`, and the bytes
//! are zeroed on drop. The only way to the plain text is [`Secret::expose`],
//! used where a header or request body is built.
//!
//! Every value of 6 characters or more is also registered with the log
//! redactor ([`crate::platform::logging::redact`]) while a `Secret` holds it, so that
//! even a log line that bypassed `Secret` never shows it, plain or encoded.

use std::fmt;

use zeroize::Zeroizing;

/// A secret shows its last four characters only from this length on, so a
/// hint never reveals more than a third of it.
pub const HINT_MIN_LEN: usize = 12;

/// A secret value. Cloning copies the bytes (each copy is zeroed on drop).
pub struct Secret {
    value: Zeroizing<String>,
    /// Holds its value in the log redactor (released on drop).
    held: bool,
}

impl Secret {
    /// Wraps a value and registers it with the log redactor for as long as
    /// this value (or a clone) lives. Surrounding whitespace is kept:
    /// validation decides.
    pub fn new(value: impl Into<String>) -> Self {
        let value = Zeroizing::new(value.into());
        let held = crate::platform::logging::redact::hold(&value);
        Self { value, held }
    }

    /// What a secret text field holds while the admin types: not registered
    /// with the redactor (one entry per keystroke would crowd out the live
    /// secrets). The value is registered once, when it is taken for use
    /// (parsed into a [`Secret::new`]).
    pub fn typed(value: impl Into<String>) -> Self {
        Self {
            value: Zeroizing::new(value.into()),
            held: false,
        }
    }

    /// The plain text. Call only where it is sent over the wire or compared.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The last four characters, which admins use to tell secrets apart;
    /// empty for a secret shorter than [`HINT_MIN_LEN`] characters, where
    /// four characters would give away too much of it (or all of it).
    pub fn last4(&self) -> String {
        let chars: Vec<char> = self.value.chars().collect();
        if chars.len() < HINT_MIN_LEN {
            return String::new();
        }
        chars[chars.len() - 4..].iter().collect()
    }

    /// `••••abcd`: what the UI and reports may show; only `••••` for a
    /// short secret (see [`Secret::last4`]).
    pub fn masked(&self) -> String {
        format!("••••{}", self.last4())
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// A fresh random secret of `len` URL-safe characters (sandbox tokens).
    pub fn generate(len: usize) -> Self {
        use rand::Rng;
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = rand::rng();
        let s: String = (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        Self::new(s)
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        let value = self.value.clone();
        let held = self.held && crate::platform::logging::redact::hold(&value);
        Self { value, held }
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        if self.held {
            crate::platform::logging::redact::release(&self.value);
        }
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("s3cr3t-value-1234");
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(!format!("{s}").contains("s3cr3t"));
        assert!(!format!("{:?}", Some(&s)).contains("1234"));
    }

    #[test]
    fn new_secrets_are_redacted_from_log_lines() {
        let s = Secret::new("registered-by-new-42");
        let line = format!("sent {} to the server", s.expose());
        assert_eq!(
            crate::platform::logging::redact::redact(&line),
            "sent •••• to the server"
        );
    }

    #[test]
    fn a_live_secret_stays_redacted_after_many_others() {
        let live = Secret::new("live-secret-kept-while-held-77");
        let copy = live.clone();
        // A text field's worth of keystrokes, and then some.
        for i in 0..20 * crate::platform::logging::redact::MAX_SECRETS {
            drop(Secret::new(format!("keystroke-value-{i:06}")));
        }
        let logged = format!("token {} sent", live.expose());
        assert_eq!(
            crate::platform::logging::redact::redact(&logged),
            "token •••• sent"
        );
        drop(live);
        assert_eq!(
            crate::platform::logging::redact::redact(&logged),
            "token •••• sent",
            "the clone still holds it"
        );
        drop(copy);
    }

    #[test]
    fn typed_values_are_not_registered_until_taken_for_use() {
        let typed = Secret::typed("typed-value-not-yet-used-31");
        assert_eq!(
            crate::platform::logging::redact::redact(typed.expose()),
            "typed-value-not-yet-used-31"
        );
        let used = Secret::new(typed.expose());
        assert_eq!(
            crate::platform::logging::redact::redact(typed.expose()),
            "••••"
        );
        drop(used);
    }

    #[test]
    fn last4_and_mask() {
        // Values no other test's log line contains (the registry is global).
        let s = Secret::new("Zq9-last4-hint-K3wp");
        assert_eq!(s.last4(), "K3wp");
        assert_eq!(s.masked(), "••••K3wp");
        assert_eq!(Secret::new("€q9-hint-X7b").masked(), "••••-X7b");
    }

    #[test]
    fn short_secrets_are_never_shown_even_in_part() {
        for short in ["", "q", "q9", "q9Z!", "q9Z!w", "q9Z!w8Yv", "q9Z!w8Yv$Kp"] {
            let s = Secret::new(short);
            assert_eq!(s.masked(), "••••", "{short}");
            assert_eq!(s.last4(), "", "{short}");
        }
    }

    #[test]
    fn generated_secrets_differ_and_have_the_length() {
        let a = Secret::generate(40);
        let b = Secret::generate(40);
        assert_eq!(a.expose().len(), 40);
        assert_ne!(a, b);
    }
}
