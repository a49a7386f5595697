//! The CLI's tests, in one binary: `orchidea-wizard-cli` run as a process
//! against the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Test helpers take the values their callers build inline (`json!(...)`),
// and a test may bring a trait into scope where it first uses it.
#![allow(clippy::needless_pass_by_value, clippy::items_after_statements)]

// The helpers this binary shares with the others (tests/support/): each
// binary takes only the files whose every item it uses.
#[path = "../support/another_admin.rs"]
mod another_admin;
#[path = "../support/dump.rs"]
mod dump;
#[path = "../support/keyring.rs"]
mod keyring;
#[path = "../support/new_app.rs"]
mod new_app;
#[path = "../support/scim_answer.rs"]
mod scim_answer;
#[path = "../support/scim_store.rs"]
mod scim_store;
#[path = "../support/standalone.rs"]
mod standalone;
#[path = "../support/users.rs"]
mod users;
mod common {
    pub use super::another_admin::*;
    pub use super::dump::*;
    pub use super::new_app::*;
    pub use super::scim_answer::*;
    pub use super::scim_store::*;
    pub use super::users::*;
    pub(crate) use super::{keyring, standalone};
}

mod check;
mod cli;
mod cli_endpoint_urls;
mod cli_keyring;
mod cli_scope_pause;
mod cli_signin;
mod cli_undo;
mod kill_resume;
mod plan;
mod rotate;
mod secret_age;
mod sso;
