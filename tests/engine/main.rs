//! The engine's tests, in one binary: the engine, the Graph client, sign-in,
//! the probe, Orchidea's admin API, reports, backups and the fault matrix,
//! each against the sandbox over real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Test helpers take the values their callers build inline (`json!(...)`),
// and a test may bring a trait into scope where it first uses it.
#![allow(clippy::needless_pass_by_value, clippy::items_after_statements)]

// The helpers this binary shares with the others (tests/support/): each
// binary takes only the files whose every item it uses.
#[path = "../support/dump.rs"]
mod dump;
#[path = "../support/graph_api.rs"]
mod graph_api;
#[path = "../support/keyring.rs"]
mod keyring;
mod local;
#[path = "../support/new_app.rs"]
mod new_app;
#[path = "../support/scenario.rs"]
mod scenario;
#[path = "../support/scim_answer.rs"]
mod scim_answer;
#[path = "../support/scim_store.rs"]
mod scim_store;
#[path = "../support/serve.rs"]
mod serve;
#[path = "../support/standalone.rs"]
mod standalone;
#[path = "../support/users.rs"]
mod users;
#[path = "../support/webui_form.rs"]
mod webui_form;
#[path = "../support/without_sso.rs"]
mod without_sso;
mod common {
    pub use super::dump::*;
    pub use super::local::*;
    pub use super::new_app::*;
    pub use super::scenario::*;
    pub use super::scim_answer::*;
    pub use super::scim_store::*;
    pub use super::serve::*;
    pub use super::users::*;
    pub use super::webui_form::*;
    pub use super::without_sso::*;
    pub(crate) use super::{graph_api, keyring, standalone};
}

mod after_start;
mod bad_input;
mod bounded_http;
mod cloud_features;
mod create_app;
mod credstore_keyring;
mod drift;
mod engine_faults;
mod engine_sandbox;
mod graph_client;
mod orchidea_api;
mod orchidea_sso;
mod permissions;
mod probe;
mod proxy;
mod remembered_tokens;
mod report_files;
mod restore;
mod rotate;
mod schema_variants;
mod scim_secret_revoke;
mod scope_pause;
mod secret_ages;
mod secret_leak;
mod signin_flows;
mod sso_graph;
mod sso_step;
mod sso_undo;
mod stale_schema;
mod undo;
