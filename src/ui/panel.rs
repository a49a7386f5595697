//! Panels: parts of a screen that are not screens themselves. The sign-in
//! form (on Welcome), the job monitor after Start (on Start and Summary),
//! the backups list and "Rotate secret" (on Summary), and the SCIM/Test Connection/result
//! blocks several screens share.

pub mod after_start;
pub mod backups;
mod connection;
pub mod rotate;
pub mod secret_age;
pub mod sign_in;
pub(super) mod sign_in_work;
pub mod undo;

pub use connection::{result, scim_block, test_connection};
