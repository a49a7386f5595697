//! Secrets passed in environment variables (`GRAPH_ACCESS_TOKEN`,
//! `ORCHIDEA_ADMIN_TOKEN`, `ORCHIDEA_SCIM_SECRET`, `ORCHIDEA_OLD_SCIM_SECRET`): read once at start and
//! removed from the process environment, so that no child process (the
//! browser opened for sign-in, which the `webbrowser` crate starts with our
//! environment) inherits them.
//!
//! Removing a variable is only sound while no other thread runs (edition
//! 2024 makes `remove_var` unsafe), so [`take_from_env`] is the first thing
//! each binary's `main` does, before the async runtime or the window starts
//! a thread.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::platform::secret::Secret;

/// The variables that carry secrets.
pub const SECRET_VARS: [&str; 4] = [
    "GRAPH_ACCESS_TOKEN",
    "ORCHIDEA_ADMIN_TOKEN",
    "ORCHIDEA_SCIM_SECRET",
    "ORCHIDEA_OLD_SCIM_SECRET",
];

static TAKEN: OnceLock<HashMap<&'static str, Secret>> = OnceLock::new();

/// Moves the [`SECRET_VARS`] that are set from the environment into this
/// module (a value that is not UTF-8 is removed and ignored).
///
/// # Safety
///
/// No other thread may be running: call it first thing in `main`.
#[allow(unsafe_code)]
pub unsafe fn take_from_env() {
    let mut taken = HashMap::new();
    for name in SECRET_VARS {
        if let Some(value) = std::env::var_os(name) {
            if let Ok(value) = value.into_string() {
                taken.insert(name, Secret::new(value));
            }
            // SAFETY: the caller guarantees no other thread runs.
            unsafe { std::env::remove_var(name) };
        }
    }
    let _ = TAKEN.set(taken);
}

/// The value of secret variable `name`: the one [`take_from_env`] took, or,
/// in a process that did not call it (tests of the library), the
/// environment's.
pub fn var(name: &str) -> Option<Secret> {
    match TAKEN.get() {
        Some(taken) => taken.get(name).cloned(),
        None => std::env::var(name).ok().map(Secret::new),
    }
}

/// Whether secret variable `name` was set.
pub fn is_set(name: &str) -> bool {
    var(name).is_some()
}
