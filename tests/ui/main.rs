//! The window's tests, in one binary: headless clicks and typing through
//! `iced_test` against the sandbox on 127.0.0.1, and pixel baselines.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The helpers this binary shares with the others (tests/support/): each
// binary takes only the files whose every item it uses.
#[path = "../support/another_admin.rs"]
mod another_admin;
#[path = "../support/dump.rs"]
mod dump;
#[path = "../support/new_app.rs"]
mod new_app;
#[path = "../support/scim_answer.rs"]
mod scim_answer;
#[path = "../support/webui_form.rs"]
mod webui_form;
mod common {
    pub use super::another_admin::*;
    pub use super::dump::*;
    pub use super::new_app::*;
    pub use super::scim_answer::*;
    pub use super::webui_form::*;
}
mod support;

mod clipboard_x11;

mod after_start;
mod create_app;
mod drift;
mod failures;
mod flow;
mod keyboard;
mod permissions;
mod rotate;
mod scope_pause;
mod secret_age;
mod secret_fields;
mod sign_in;
mod snapshots;
mod sso;
mod undo;
