//! The sandbox's own tests, in one binary: it must behave as Microsoft's and
//! Orchidea's published pages say, whatever our client does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The helpers this binary shares with the others (tests/support/): each
// binary takes only the files whose every item it uses.
#[path = "../support/dump.rs"]
mod dump;
#[path = "../support/graph_api.rs"]
mod graph_api;
mod local;
#[path = "../support/serve.rs"]
mod serve;
#[path = "../support/without_sso.rs"]
mod without_sso;
mod common {
    pub use super::dump::*;
    pub use super::serve::*;
    pub use super::without_sso::*;

    pub(crate) use super::graph_api;
}

mod sandbox_after_start;
mod sandbox_deletes;
mod sandbox_graph;
mod sandbox_groups;
mod sandbox_login;
mod sandbox_secret_expiry;
mod sandbox_sso;
mod scim_conformance;
