//! What every layer stands on: HTTP with its limits, the credential store,
//! settings and paths, logging with redaction, the clipboard, national
//! clouds, and the `Secret` type.

pub mod build_info;
#[cfg(feature = "gui")]
pub mod clipboard;
pub mod cloud;
pub mod credstore;
pub mod http;
pub mod logging;
pub mod paths;
pub mod procinfo;
pub mod secret;
pub mod secret_env;
pub mod settings;
pub mod timefmt;
