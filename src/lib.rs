//! Orchidea SCIM Setup Wizard: the engine behind the desktop app and the CLI.
//!
//! The folders are the layers, each using only those below it:
//! [`ui`] (the window) and the CLI binary on top; [`setup`] wiring an
//! [`engine`] to real endpoints or to the [`sandbox`]; the [`engine`]
//! running the [`procedure`] against the [`services`]; and the
//! [`platform`] underneath. Everything except [`ui`] builds without iced,
//! so the headless CLI and the tests drive exactly the code the window does.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod bench;
pub mod engine;
pub mod platform;
pub mod procedure;
pub mod sandbox;
pub mod services;
pub mod setup;

// The dependency rules between the folders above, checked on the source.
#[cfg(test)]
mod layers;

#[cfg(feature = "gui")]
pub mod ui;

pub use platform::secret::Secret;
pub use procedure::checklist::{Checklist, Progress, Status};
pub use procedure::step::StepId;
