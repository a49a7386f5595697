//! A string that must never be printed: SCIM secrets, bearer tokens.
//!
//! `Debug` and `Display` redact, the type is not `Serialize`, and the bytes
//! are zeroed on drop. The only way to the plain text is [`Secret::expose`],
//! used where a header or request body is built.
//!
//! Every value of 6 characters or more is also registered with the log
//! redactor ([`crate::logging::redact`]), so that even a log line that
//! bypassed `Secret` never shows it, plain or encoded.

use std::fmt;

use zeroize::Zeroizing;

/// A secret value. Cloning copies the bytes (each copy is zeroed on drop).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value. Surrounding whitespace is kept: validation decides.
    pub fn new(value: impl Into<String>) -> Self {
        let value = Zeroizing::new(value.into());
        crate::logging::redact::register(&value);
        Self(value)
    }

    /// The plain text. Call only where it is sent over the wire or compared.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters, which admins use to tell secrets apart.
    pub fn last4(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let start = chars.len().saturating_sub(4);
        chars[start..].iter().collect()
    }

    /// `••••abcd`: what the UI and reports may show.
    pub fn masked(&self) -> String {
        format!("••••{}", self.last4())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
            crate::logging::redact::redact(&line),
            "sent •••• to the server"
        );
    }

    #[test]
    fn last4_and_mask() {
        let s = Secret::new("abcdefgh");
        assert_eq!(s.last4(), "efgh");
        assert_eq!(s.masked(), "••••efgh");
        assert_eq!(Secret::new("ab").last4(), "ab");
    }

    #[test]
    fn generated_secrets_differ_and_have_the_length() {
        let a = Secret::generate(40);
        let b = Secret::generate(40);
        assert_eq!(a.expose().len(), 40);
        assert_ne!(a, b);
    }
}
