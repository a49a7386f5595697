//! Orchidea SCIM Setup Wizard: the engine behind the desktop app and the CLI.
//!
//! Everything here except [`ui`] builds without iced, so the headless CLI and
//! the tests drive exactly the code the window does.

pub mod backup;
pub mod bench;
pub mod build_info;
pub mod checklist;
pub mod cloud;
pub mod connect;
pub mod credstore;
pub mod engine;
pub mod graph;
pub mod http;
pub mod logging;
pub mod mapping;
pub mod orchidea;
pub mod paths;
pub mod probe;
pub mod procinfo;
pub mod report;
pub mod resume;
pub mod sandbox;
pub mod secret;
pub mod secret_env;
pub mod settings;
pub mod setup;
pub mod signin;
pub mod step;
pub mod timefmt;

#[cfg(feature = "gui")]
pub mod clipboard;
#[cfg(feature = "gui")]
pub mod ui;

pub use checklist::{Checklist, Progress, Status};
pub use secret::Secret;
pub use step::StepId;
