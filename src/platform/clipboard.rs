//! Copy buttons: the secret stays out of clipboard history and is cleared
//! after a minute if the clipboard still holds it.
//!
//! [`Copier`] owns one [`Clipboard`] for the whole app lifetime: on Linux the
//! copying process serves the selection, so dropping it would empty it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::platform::secret::Secret;

/// How long a copied secret may stay on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipboardError {
    #[error(
        "The clipboard is not available ({0}). Select the text and copy it with the keyboard instead."
    )]
    Unavailable(String),
    #[error("Copying failed ({0}). Try again, or select the text and copy it with the keyboard.")]
    Failed(String),
}

/// The system clipboard, or a stand-in for tests.
pub trait Clipboard {
    /// Plain text (the SCIM URL): it may enter history and outlive the app.
    fn set_text(&mut self, text: &str) -> Result<(), ClipboardError>;
    /// A secret, marked so clipboard history and cloud sync skip it.
    fn set_secret(&mut self, secret: &Secret) -> Result<(), ClipboardError>;
    /// What the clipboard holds now, wrapped so it is zeroed and redacted.
    fn current(&mut self) -> Option<Secret>;
    fn clear(&mut self) -> Result<(), ClipboardError>;
}

/// The OS clipboard through arboard.
pub struct SystemClipboard(arboard::Clipboard);

impl SystemClipboard {
    pub fn new() -> Result<Self, ClipboardError> {
        arboard::Clipboard::new()
            .map(Self)
            .map_err(|e| ClipboardError::Unavailable(e.to_string()))
    }
}

impl Clipboard for SystemClipboard {
    fn set_text(&mut self, text: &str) -> Result<(), ClipboardError> {
        self.0
            .set_text(text)
            .map_err(|e| ClipboardError::Failed(e.to_string()))
    }

    fn set_secret(&mut self, secret: &Secret) -> Result<(), ClipboardError> {
        let set = self.0.set();
        #[cfg(all(
            unix,
            not(any(target_os = "macos", target_os = "android", target_os = "emscripten"))
        ))]
        let set = {
            use arboard::SetExtLinux;
            set.exclude_from_history()
        };
        #[cfg(windows)]
        let set = {
            use arboard::SetExtWindows;
            set.exclude_from_history().exclude_from_cloud()
        };
        #[cfg(target_os = "macos")]
        let set = {
            use arboard::SetExtApple;
            set.exclude_from_history()
        };
        set.text(secret.expose())
            .map_err(|e| ClipboardError::Failed(e.to_string()))
    }

    fn current(&mut self) -> Option<Secret> {
        self.0.get_text().ok().map(Secret::new)
    }

    fn clear(&mut self) -> Result<(), ClipboardError> {
        self.0
            .clear()
            .map_err(|e| ClipboardError::Failed(e.to_string()))
    }
}

/// An in-memory clipboard for tests; clones share the same contents.
#[derive(Clone, Default)]
pub struct MemoryClipboard(Arc<Mutex<MemoryState>>);

#[derive(Default)]
struct MemoryState {
    value: Option<Secret>,
    excluded_from_history: bool,
}

impl MemoryClipboard {
    /// The text on the clipboard (tests only compare it).
    pub fn contents(&self) -> Option<Secret> {
        self.lock().value.clone()
    }

    /// Whether the last value was marked to stay out of history.
    pub fn excluded_from_history(&self) -> bool {
        self.lock().excluded_from_history
    }

    /// Another program copied something.
    pub fn replace(&self, text: &str) {
        let mut state = self.lock();
        state.value = Some(Secret::new(text));
        state.excluded_from_history = false;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clipboard for MemoryClipboard {
    fn set_text(&mut self, text: &str) -> Result<(), ClipboardError> {
        self.replace(text);
        Ok(())
    }

    fn set_secret(&mut self, secret: &Secret) -> Result<(), ClipboardError> {
        let mut state = self.lock();
        state.value = Some(secret.clone());
        state.excluded_from_history = true;
        Ok(())
    }

    fn current(&mut self) -> Option<Secret> {
        self.contents()
    }

    fn clear(&mut self) -> Result<(), ClipboardError> {
        let mut state = self.lock();
        state.value = None;
        state.excluded_from_history = false;
        Ok(())
    }
}

/// What a [`Copier::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Still counting down.
    Waiting,
    /// The secret was removed from the clipboard.
    Cleared,
    /// Something else was copied since; it was left alone.
    Replaced,
}

/// The app's clipboard plus the pending auto-clear of a copied secret.
pub struct Copier {
    clipboard: Result<Box<dyn Clipboard>, ClipboardError>,
    /// A hash, so the secret itself is not kept for the countdown.
    pending: Option<([u8; 32], Instant)>,
}

impl Copier {
    pub fn new(clipboard: Box<dyn Clipboard>) -> Self {
        Self {
            clipboard: Ok(clipboard),
            pending: None,
        }
    }

    /// The OS clipboard; if it cannot be opened, copy buttons report why.
    pub fn system() -> Self {
        Self {
            clipboard: SystemClipboard::new().map(|c| Box::new(c) as Box<dyn Clipboard>),
            pending: None,
        }
    }

    pub fn copy_text(&mut self, text: &str) -> Result<(), ClipboardError> {
        self.clipboard_mut()?.set_text(text)?;
        self.pending = None;
        Ok(())
    }

    /// Copies `secret` and starts the countdown to clear it.
    pub fn copy_secret(&mut self, secret: &Secret, now: Instant) -> Result<(), ClipboardError> {
        self.clipboard_mut()?.set_secret(secret)?;
        self.pending = Some((fingerprint(secret), now + CLEAR_AFTER));
        Ok(())
    }

    /// Whole seconds until the secret is cleared, while a clear is pending.
    pub fn seconds_left(&self, now: Instant) -> Option<u64> {
        self.pending.map(|(_, deadline)| {
            let left = deadline.saturating_duration_since(now);
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        })
    }

    /// Clears the secret once its time is up, unless it was replaced.
    pub fn tick(&mut self, now: Instant) -> Expiry {
        match self.pending {
            Some((_, deadline)) if now >= deadline => self.clear_now(),
            Some(_) => Expiry::Waiting,
            None => Expiry::Replaced,
        }
    }

    /// Clears the secret now if the clipboard still holds it (also on exit).
    pub fn clear_now(&mut self) -> Expiry {
        let Some((hash, _)) = self.pending.take() else {
            return Expiry::Replaced;
        };
        let Ok(clipboard) = self.clipboard_mut() else {
            return Expiry::Replaced;
        };
        let ours = clipboard.current().is_some_and(|c| fingerprint(&c) == hash);
        if ours && clipboard.clear().is_ok() {
            Expiry::Cleared
        } else {
            Expiry::Replaced
        }
    }

    fn clipboard_mut(&mut self) -> Result<&mut Box<dyn Clipboard>, ClipboardError> {
        self.clipboard.as_mut().map_err(|e| e.clone())
    }
}

fn fingerprint(secret: &Secret) -> [u8; 32] {
    Sha256::digest(secret.expose().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copier() -> (Copier, MemoryClipboard) {
        let memory = MemoryClipboard::default();
        (Copier::new(Box::new(memory.clone())), memory)
    }

    #[test]
    fn secret_is_excluded_from_history_and_cleared_after_a_minute() {
        let (mut copier, memory) = copier();
        let t0 = Instant::now();
        copier.copy_secret(&Secret::new("s3cr3t-abcd"), t0).unwrap();
        assert!(memory.excluded_from_history());
        assert_eq!(memory.contents().unwrap().expose(), "s3cr3t-abcd");
        assert_eq!(copier.seconds_left(t0), Some(60));
        assert_eq!(
            copier.seconds_left(t0 + Duration::from_millis(59_500)),
            Some(1)
        );
        assert_eq!(copier.tick(t0 + Duration::from_secs(59)), Expiry::Waiting);
        assert!(memory.contents().is_some());
        assert_eq!(copier.tick(t0 + CLEAR_AFTER), Expiry::Cleared);
        assert!(memory.contents().is_none());
        assert_eq!(copier.seconds_left(t0 + CLEAR_AFTER), None);
    }

    #[test]
    fn a_newer_copy_by_the_admin_is_never_wiped() {
        let (mut copier, memory) = copier();
        let t0 = Instant::now();
        copier.copy_secret(&Secret::new("s3cr3t-abcd"), t0).unwrap();
        memory.replace("something the admin copied later");
        assert_eq!(copier.tick(t0 + CLEAR_AFTER), Expiry::Replaced);
        assert_eq!(
            memory.contents().unwrap().expose(),
            "something the admin copied later"
        );
    }

    #[test]
    fn copying_the_url_is_plain_and_stops_the_countdown() {
        let (mut copier, memory) = copier();
        let t0 = Instant::now();
        copier.copy_secret(&Secret::new("s3cr3t"), t0).unwrap();
        copier
            .copy_text("https://orchidea.example/scim/v2")
            .unwrap();
        assert!(!memory.excluded_from_history());
        assert_eq!(copier.seconds_left(t0), None);
    }

    #[test]
    fn an_unavailable_clipboard_says_what_to_do() {
        let mut copier = Copier {
            clipboard: Err(ClipboardError::Unavailable("no display".into())),
            pending: None,
        };
        let err = copier.copy_text("x").unwrap_err();
        assert!(err.to_string().contains("copy it with the keyboard"));
        assert_eq!(copier.clear_now(), Expiry::Replaced);
    }
}
