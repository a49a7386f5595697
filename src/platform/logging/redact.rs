//! The second line of defence: every log line, to stderr and to the log file,
//! is passed through [`redact`] before it is written.
//!
//! Two things are masked with [`MASK`]:
//!
//! 1. **Live secrets.** Every [`Secret`](crate::Secret) the process creates
//!    is [`register`]ed here, with its encoded forms: standard and URL-safe
//!    base64, each with and without padding, and percent-encoding (upper and
//!    lower case hex). Values shorter than [`MIN_SECRET_LEN`] characters are
//!    not registered: masking every "admin" or "false" would make logs
//!    unreadable, and real tokens are far longer. Values longer than
//!    [`MAX_SECRET_LEN`] are not registered either (pasted documents). A
//!    value stays while something holds it: a [`Secret`](crate::Secret)
//!    holds its value from creation to drop ([`hold`]/[`release`]), and a
//!    [`register`]ed value is held for the life of the process. Held values
//!    are never evicted. Values no longer held stay too (a log line may
//!    quote one a moment later), up to [`MAX_SECRETS`] entries in all; past
//!    that the oldest of them are dropped and their bytes zeroed, as is one
//!    a newly registered value starts with (its earlier state). Text
//!    fields do not register what the admin types: the value is registered
//!    once, when it is taken for use.
//! 2. **Credential patterns**, whether or not the value is registered:
//!    `Bearer <token>` and `Basic <token>` (tokens of at least 8 characters
//!    that contain a digit or symbol, or are 20+ characters long, so "Bearer
//!    prefix" stays readable); key/value pairs whose key is one of
//!    `SecretToken`, `secret_token`, `access_token`, `refresh_token`,
//!    `id_token`, `client_secret`, `scim_secret`, `admin_token`, `api_key`,
//!    `password`, `Authorization` (any case, `_` optional) in JSON
//!    (`"k": "v"`, also escaped inside a JSON string), Rust `Debug`
//!    (`k: "v"`, `k: Some("v")`), `k=v`, and header (`Authorization: Bearer
//!    …`) form; and Graph's credential pairs `{"key": "SecretToken",
//!    "value": "…"}`.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use regex::{Captures, Regex};
use zeroize::Zeroizing;

/// What a redacted value is replaced with.
pub const MASK: &str = "••••";
/// Shorter values are not registered (counted in characters).
pub const MIN_SECRET_LEN: usize = 6;
/// Longer values are not registered (counted in bytes).
pub const MAX_SECRET_LEN: usize = 8 * 1024;
/// How many entries the registry keeps once values are no longer held;
/// held values are kept whatever their number.
pub const MAX_SECRETS: usize = 64;

/// One registered secret: its plain text first, then its encodings.
struct Entry {
    forms: Vec<Zeroizing<String>>,
    /// How many live [`Secret`](crate::Secret)s hold the value.
    holders: usize,
    /// Registered with [`register`]: held for the life of the process.
    pinned: bool,
}

impl Entry {
    fn new(value: &str) -> Self {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let bytes = value.as_bytes();
        let mut forms: Vec<Zeroizing<String>> = vec![Zeroizing::new(value.to_string())];
        let mut push = |form: String| {
            let form = Zeroizing::new(form);
            if !forms.contains(&form) {
                forms.push(form);
            }
        };
        // Padded first: where both match, the `=` go too.
        push(STANDARD.encode(bytes));
        push(URL_SAFE.encode(bytes));
        push(STANDARD_NO_PAD.encode(bytes));
        push(URL_SAFE_NO_PAD.encode(bytes));
        push(percent_encode(bytes, b"0123456789ABCDEF"));
        push(percent_encode(bytes, b"0123456789abcdef"));
        Self {
            forms,
            holders: 0,
            pinned: false,
        }
    }

    fn value(&self) -> &str {
        &self.forms[0]
    }

    fn held(&self) -> bool {
        self.pinned || self.holders > 0
    }
}

/// Whether `value` (trimmed) is one the registry takes.
fn worth_registering(value: &str) -> bool {
    value.len() <= MAX_SECRET_LEN && value.chars().count() >= MIN_SECRET_LEN
}

/// Every byte outside RFC 3986's unreserved set as `%XX`.
fn percent_encode(bytes: &[u8], hex: &[u8; 16]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(hex[usize::from(b >> 4)] as char);
            out.push(hex[usize::from(b & 0xf)] as char);
        }
    }
    out
}

/// The live secrets, newest last. The process has one ([`register`]); tests
/// make their own.
#[derive(Default)]
pub struct Registry {
    entries: VecDeque<Entry>,
}

impl Registry {
    pub const fn new() -> Self {
        Self {
            entries: VecDeque::new(),
        }
    }

    /// See [`register`].
    pub fn register(&mut self, value: &str) {
        if let Some(entry) = self.entry(value) {
            entry.pinned = true;
        }
    }

    /// See [`hold`].
    pub fn hold(&mut self, value: &str) -> bool {
        match self.entry(value) {
            Some(entry) => {
                entry.holders += 1;
                true
            }
            None => false,
        }
    }

    /// See [`release`].
    pub fn release(&mut self, value: &str) {
        let value = value.trim();
        if let Some(entry) = self.entries.iter_mut().find(|e| e.value() == value) {
            entry.holders = entry.holders.saturating_sub(1);
        }
        self.evict();
    }

    /// The entry for `value`, made the newest (created if new), or `None`
    /// for a value too short or too long to register.
    fn entry(&mut self, value: &str) -> Option<&mut Entry> {
        let value = value.trim();
        if !worth_registering(value) {
            return None;
        }
        let entry = if let Some(i) = self.entries.iter().position(|e| e.value() == value) {
            self.entries.remove(i)?
        } else {
            // A value nobody holds any more that this one starts with
            // (an earlier, shorter state of the same input) goes.
            self.entries
                .retain(|e| e.held() || !value.starts_with(e.value()));
            Entry::new(value)
        };
        // Evict before adding: the new entry is not held yet (its caller
        // counts the holder next), so it must not be the one evicted.
        self.evict_to(MAX_SECRETS - 1);
        self.entries.push_back(entry);
        self.entries.back_mut()
    }

    /// Past [`MAX_SECRETS`], drops the oldest values nobody holds.
    fn evict(&mut self) {
        self.evict_to(MAX_SECRETS);
    }

    /// Drops the oldest values nobody holds until at most `max` are left.
    fn evict_to(&mut self, max: usize) {
        while self.entries.len() > max {
            match self.entries.iter().position(|e| !e.held()) {
                Some(i) => drop(self.entries.remove(i)),
                None => break,
            }
        }
    }

    /// Forgets `value`; its stored forms are zeroed.
    pub fn unregister(&mut self, value: &str) {
        let value = value.trim();
        self.entries.retain(|e| e.value() != value);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `text` with every registered secret, in every form, masked.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for entry in &self.entries {
            for form in &entry.forms {
                find_all(text, form, &mut ranges);
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        // Overlapping or touching matches (two secrets, or a secret and its
        // encoding) become one mask.
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        let mut current: Option<Range<usize>> = None;
        for r in ranges {
            match current.as_mut() {
                Some(c) if r.start <= c.end => c.end = c.end.max(r.end),
                _ => {
                    if let Some(c) = current.replace(r) {
                        out.push_str(&text[pos..c.start]);
                        out.push_str(MASK);
                        pos = c.end;
                    }
                }
            }
        }
        if let Some(c) = current {
            out.push_str(&text[pos..c.start]);
            out.push_str(MASK);
            pos = c.end;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry::new());

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Remembers `value` (surrounding whitespace trimmed) for the life of the
/// process, so log lines never show it or its encodings; a no-op for values
/// under [`MIN_SECRET_LEN`] characters. For values that are not held by a
/// [`Secret`](crate::Secret) (a proxy password).
pub fn register(value: &str) {
    registry().register(value);
}

/// Masks `value` while it is held: one call per holder, matched by one
/// [`release`]. Called by [`Secret`](crate::Secret) on creation and clone;
/// false for a value not registered (too short or too long).
pub fn hold(value: &str) -> bool {
    registry().hold(value)
}

/// One holder of `value` let go of it (a [`Secret`](crate::Secret) dropped).
/// The value stays masked until [`MAX_SECRETS`] values nobody holds push it
/// out.
pub fn release(value: &str) {
    registry().release(value);
}

/// Forgets `value`; its stored forms are zeroed.
pub fn unregister(value: &str) {
    registry().unregister(value);
}

/// How many secrets the process registry holds.
pub fn registered() -> usize {
    registry().len()
}

/// `text` with live secrets and credential patterns replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let masked = registry().mask(text);
    mask_patterns(masked)
}

/// Only the credential patterns of [`redact`].
fn mask_patterns(text: Cow<'_, str>) -> Cow<'_, str> {
    let mut out = text;
    for pattern in PATTERNS.iter() {
        if let Cow::Owned(s) = pattern.apply(&out) {
            out = Cow::Owned(s);
        }
    }
    out
}

/// Every occurrence of `needle`, overlapping ones included.
fn find_all(text: &str, needle: &str, ranges: &mut Vec<Range<usize>>) {
    let mut from = 0;
    while let Some(i) = text[from..].find(needle) {
        let start = from + i;
        ranges.push(start..start + needle.len());
        // Next char boundary after `start`.
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
}

/// Whether a captured value is worth masking.
type Accept = fn(&str) -> bool;

/// A credential pattern: group 1 is kept, group 2 (the value) is masked.
struct Pattern {
    regex: Regex,
    accept: Accept,
}

impl Pattern {
    fn apply<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let out = self.regex.replace_all(text, |c: &Captures<'_>| {
            let value = c.get(2).map_or("", |m| m.as_str());
            if value.is_empty() || !(self.accept)(value) {
                c[0].to_string()
            } else {
                format!("{}{MASK}", &c[1])
            }
        });
        match out {
            // Only rejected candidates ("Bearer prefix"): nothing changed.
            Cow::Owned(s) if s == text => Cow::Borrowed(text),
            out => out,
        }
    }
}

/// An opaque token rather than a word: "Bearer eyJhbGci…" but not "Bearer prefix".
fn looks_like_token(value: &str) -> bool {
    let value = value.trim_end_matches('=');
    value.len() >= 8 && (value.len() >= 20 || value.chars().any(|c| !c.is_ascii_alphabetic()))
}

fn always(_: &str) -> bool {
    true
}

/// Not the `Some(` of a Debug `Some("…")`, whose inside the quoted pattern masked.
fn not_some(value: &str) -> bool {
    value != "Some("
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    // Optional ANSI colour codes, as a terminal log line has around fields.
    const A: &str = r"(?:\x1b\[[0-9;]*m)*";
    const KEYS: &str = r"secret_?token|access_?token|refresh_?token|id_?token|client_?secret|scim_?secret|admin_?token|api_?key|password|authorization";
    let mut patterns: Vec<(String, Accept)> = Vec::new();
    // JSON and Debug strings, then the same escaped inside a string (a
    // logged request body): the value ends at the matching kind of quote.
    for (q, qo, inside) in [
        (r#"""#, r#""?"#, r#"(?:[^"\\]|\\.)*"#),
        (r#"\\""#, r#"(?:\\")?"#, r#"(?:[^"\\]|\\[^"])*"#),
    ] {
        patterns.push((
            format!(
                r"(?i)(key{qo}{A}\s*[:=]{A}\s*{q}(?:{KEYS}){q}\s*,\s*{qo}value{qo}{A}\s*[:=]{A}\s*(?:Some\()?{q})({inside})"
            ),
            always,
        ));
        patterns.push((
            format!(r"(?i)((?:{KEYS}){qo}{A}\s*[:=]{A}\s*(?:Some\()?{q})({inside})"),
            always,
        ));
    }
    patterns.push((
        format!(
            r#"(?i)((?:{KEYS})\\?"?{A}\s*[:=]{A}[ \t]*)((?:(?:bearer|basic)[ \t]+)?[^\s"'&,;)}}\]\\•]+)"#
        ),
        not_some,
    ));
    patterns.push((
        r"(?i)(\b(?:bearer|basic)\s+)([A-Za-z0-9\-._~+/]+=*)".to_string(),
        looks_like_token,
    ));
    patterns
        .into_iter()
        // Every pattern is a literal; `every_pattern_compiles` checks that
        // none is dropped here.
        .filter_map(|(re, accept)| Regex::new(&re).ok().map(|regex| Pattern { regex, accept }))
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        // Two kinds of quoting times two shapes, the `key=value` form and
        // bearer/basic credentials: none may be dropped for not compiling.
        assert_eq!(PATTERNS.len(), 6);
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    /// The registry is process-wide; each test uses its own values.
    fn secret(tag: &str) -> String {
        // `?`, `>` and `/` make the base64 and percent forms differ from the plain one.
        let s = format!("Zq{tag}-9f>?x/Kd=Lm+w");
        register(&s);
        s
    }

    #[test]
    fn a_registered_secret_is_masked_in_every_form() {
        let s = secret("every");
        let b = s.as_bytes();
        let forms = [
            s.clone(),
            STANDARD.encode(b),
            STANDARD_NO_PAD.encode(b),
            URL_SAFE.encode(b),
            URL_SAFE_NO_PAD.encode(b),
            percent_encode(b, b"0123456789ABCDEF"),
            percent_encode(b, b"0123456789abcdef"),
        ];
        assert_ne!(
            forms[0], forms[5],
            "the test secret has reserved characters"
        );
        assert_ne!(forms[1], forms[3], "the test secret has + or / in base64");
        for form in forms {
            let line = format!("GET /x?q={form} done");
            let out = redact(&line);
            assert!(!out.contains(&form), "{out}");
            assert_eq!(out, format!("GET /x?q={MASK} done"), "{form}");
        }
    }

    #[test]
    fn every_occurrence_is_masked_and_the_rest_kept() {
        let s = secret("twice");
        let out = redact(&format!("a {s} b {s}{s} c")).into_owned();
        assert_eq!(out, format!("a {MASK} b {MASK} c"));
    }

    #[test]
    fn overlapping_secrets_become_one_mask() {
        let a = "OVLPabcdef123456";
        let b = "123456OVLPxyz789";
        register(a);
        register(b);
        assert_eq!(
            redact("x OVLPabcdef123456OVLPxyz789 y"),
            format!("x {MASK} y")
        );
        // One inside the other.
        let outer = "OUTERinnerSECRET42x";
        register("innerSECRET42");
        register(outer);
        assert_eq!(redact(&format!("[{outer}]")), format!("[{MASK}]"));
        assert_eq!(redact("[innerSECRET42]"), format!("[{MASK}]"));
    }

    #[test]
    fn short_values_are_not_registered() {
        register("admin");
        register("false");
        register("  tiny  ");
        assert_eq!(
            redact("admin set false for a tiny user"),
            "admin set false for a tiny user"
        );
        // Six characters is enough.
        register("six6ch");
        assert_eq!(redact("is six6ch here"), format!("is {MASK} here"));
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_before_registering() {
        register("  spaced-secret-77  ");
        assert_eq!(redact("v=spaced-secret-77;"), format!("v={MASK};"));
    }

    #[test]
    fn normal_text_is_untouched() {
        for line in [
            "[ 9] done — mapping saved (5 attributes)",
            "Test Connection succeeded against https://acme.orchidea.com/scim/v2",
            "remove the Bearer prefix from the secret",
            "the password policy says 12 characters",
            "token refresh scheduled in 300 s",
            "GET https://graph.microsoft.com/v1.0/servicePrincipals?$filter=startswith(displayName,'Orchidea') 200",
            "2026-01-01T00:00:00Z  INFO orchidea_wizard::engine: step=7 state=running",
        ] {
            // The patterns alone: other tests register values that may occur here.
            let out = mask_patterns(Cow::Borrowed(line));
            assert_eq!(out, line);
            assert!(matches!(out, Cow::Borrowed(_)), "{line}");
        }
    }

    #[test]
    fn bearer_and_basic_tokens_are_masked() {
        assert_eq!(
            redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2lnbg"),
            format!("Authorization: {MASK}")
        );
        assert_eq!(
            redact("sent bearer abcdefghijklmnopqrstuvwxyz to it"),
            format!("sent bearer {MASK} to it")
        );
        assert_eq!(
            redact("header Basic dXNlcjpwYXNzd29yZA== ok"),
            format!("header Basic {MASK} ok")
        );
        assert_eq!(
            redact("Bearer short1"),
            "Bearer short1",
            "under 8 characters"
        );
    }

    #[test]
    fn json_credentials_are_masked() {
        let cases = [
            (
                r#"{"access_token":"eyJ0eXAi.abc","token_type":"Bearer","expires_in":3599}"#,
                format!(r#"{{"access_token":"{MASK}","token_type":"Bearer","expires_in":3599}}"#),
            ),
            (
                r#"{"refresh_token": "0.AXoA-r3fr3sh", "client_secret" : "cl1ent~s3cret"}"#,
                format!(r#"{{"refresh_token": "{MASK}", "client_secret" : "{MASK}"}}"#),
            ),
            (
                r#"{"password":"hunter2hunter2","user":"ann"}"#,
                format!(r#"{{"password":"{MASK}","user":"ann"}}"#),
            ),
            (
                r#"{"SecretToken":"abc\"def"}"#,
                format!(r#"{{"SecretToken":"{MASK}"}}"#),
            ),
            (
                r#"{"credentials":[{"key":"BaseAddress","value":"https://a.example/scim/v2"},{"key":"SecretToken","value":"s3cr3t-t0ken-value"}]}"#,
                format!(
                    r#"{{"credentials":[{{"key":"BaseAddress","value":"https://a.example/scim/v2"}},{{"key":"SecretToken","value":"{MASK}"}}]}}"#
                ),
            ),
            (
                // JSON inside a JSON string (a logged request body).
                r#"body="{\"key\":\"SecretToken\",\"value\":\"s3cr3t-t0ken-value\"}""#,
                format!(r#"body="{{\"key\":\"SecretToken\",\"value\":\"{MASK}\"}}""#),
            ),
            (
                r#"body="{\"access_token\":\"eyJ0eXAi.abc\"}""#,
                format!(r#"body="{{\"access_token\":\"{MASK}\"}}""#),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
    }

    #[test]
    fn key_value_debug_and_header_forms_are_masked() {
        let cases = [
            (
                "POST /token grant_type=refresh_token&refresh_token=0.AXoAr3fr3sh&client_id=abc",
                format!("POST /token grant_type=refresh_token&refresh_token={MASK}&client_id=abc"),
            ),
            (
                "client_secret=cl1ent~s3cret password=pa55word",
                format!("client_secret={MASK} password={MASK}"),
            ),
            (
                "ORCHIDEA_SCIM_SECRET=abcdefgh12345 set",
                format!("ORCHIDEA_SCIM_SECRET={MASK} set"),
            ),
            (
                r#"Creds { secret_token: "s3cr3t-xyz", url: "https://x" }"#,
                format!(r#"Creds {{ secret_token: "{MASK}", url: "https://x" }}"#),
            ),
            (
                r#"Creds { password: Some("pa55word"), user: None }"#,
                format!(r#"Creds {{ password: Some("{MASK}"), user: None }}"#),
            ),
            (
                r#"Pair { key: "SecretToken", value: "s3cr3t-xyz" }"#,
                format!(r#"Pair {{ key: "SecretToken", value: "{MASK}" }}"#),
            ),
            (
                r#"headers={"authorization": "Bearer abc.def.ghi", "accept": "json"}"#,
                format!(r#"headers={{"authorization": "{MASK}", "accept": "json"}}"#),
            ),
            (
                "authorization: Basic dXNlcjpwYXNz",
                format!("authorization: {MASK}"),
            ),
            (
                // A terminal log line: the field name is coloured.
                "\x1b[3maccess_token\x1b[0m\x1b[2m=\x1b[0meyJ0eXAi.abc next",
                format!("\x1b[3maccess_token\x1b[0m\x1b[2m=\x1b[0m{MASK} next"),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
    }

    #[test]
    fn masking_is_idempotent() {
        let s = secret("idem");
        let once = redact(&format!("password={s} Bearer {s}")).into_owned();
        assert_eq!(redact(&once), once);
        assert!(!once.contains(&s));
    }

    #[test]
    fn unregistering_forgets() {
        let s = secret("forget");
        assert_ne!(redact(&s), s);
        unregister(&s);
        assert_eq!(redact(&s), s);
    }

    #[test]
    fn values_nobody_holds_are_dropped_oldest_first() {
        let mut r = Registry::new();
        let many: Vec<String> = (0..MAX_SECRETS + 10)
            .map(|i| format!("bulk-secret-{i:04}-QWERTY"))
            .collect();
        for v in &many {
            assert!(r.hold(v));
            r.release(v);
        }
        assert_eq!(r.len(), MAX_SECRETS);
        assert_eq!(r.mask(&many[0]), many[0], "the oldest were dropped");
        assert_eq!(r.mask(&many[MAX_SECRETS + 9]), MASK);
        // Holding a known value again makes it the newest.
        r.hold(&many[10]);
        r.release(&many[10]);
        r.hold("one-more-secret-value");
        assert_eq!(r.mask(&many[10]), MASK);
        assert_eq!(r.mask(&many[11]), many[11]);
    }

    #[test]
    fn a_new_secret_is_masked_when_every_slot_is_held() {
        let mut r = Registry::new();
        let held: Vec<String> = (0..MAX_SECRETS)
            .map(|i| format!("held-secret-{i:04}-QWERTY"))
            .collect();
        for v in &held {
            assert!(r.hold(v));
        }
        // The newcomer is not held yet while it is added; it must not be
        // the value that makes room.
        let new = "the-newest-admin-T0KEN";
        assert!(r.hold(new));
        assert_eq!(r.mask(new), MASK);
        assert!(held.iter().all(|v| r.mask(v) == MASK));
    }

    #[test]
    fn a_held_secret_is_never_evicted() {
        let mut r = Registry::new();
        let live = "the-live-admin-T0KEN";
        r.hold(live);
        r.register("pinned-proxy-pa55");
        // Far more values than the cap come and go (and some stay held).
        for i in 0..10 * MAX_SECRETS {
            let v = format!("passing-value-{i:05}");
            r.hold(&v);
            if i % 100 != 0 {
                r.release(&v);
            }
        }
        assert_eq!(r.mask(live), MASK);
        assert_eq!(r.mask("pinned-proxy-pa55"), MASK);
        assert_eq!(r.mask("passing-value-00100"), MASK, "still held");
        assert!(r.len() <= MAX_SECRETS + 7, "{}", r.len());
        // Two holders: one release keeps it held.
        r.hold(live);
        r.release(live);
        for i in 0..2 * MAX_SECRETS {
            let v = format!("later-value-{i:05}");
            r.hold(&v);
            r.release(&v);
        }
        assert_eq!(r.mask(live), MASK);
        // The last release makes it evictable like any other.
        r.release(live);
        for i in 0..2 * MAX_SECRETS {
            let v = format!("final-value-{i:05}");
            r.hold(&v);
            r.release(&v);
        }
        assert_eq!(r.mask(live), live);
    }

    #[test]
    fn non_ascii_text_and_secrets_are_handled() {
        register("pässwörd-ünïcode");
        assert_eq!(redact("é pässwörd-ünïcode é"), format!("é {MASK} é"));
        let p = percent_encode("pässwörd-ünïcode".as_bytes(), b"0123456789ABCDEF");
        assert_eq!(redact(&p), MASK);
    }
}
