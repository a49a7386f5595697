//! The window's tests, in one binary: headless clicks and typing through
//! `iced_test` against the sandbox on 127.0.0.1, and pixel baselines.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The sandbox-dump readers the engine tests share.
#[path = "../common/mod.rs"]
mod common;
mod support;

mod after_start;
mod create_app;
mod failures;
mod flow;
mod permissions;
mod secret_fields;
mod sign_in;
mod snapshots;
