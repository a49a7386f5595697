//! The services the wizard talks to: Microsoft Graph (Entra), Orchidea's
//! SCIM endpoint and admin API, the pre-flight probe, and sign-in.

pub mod connect;
pub mod graph;
pub mod orchidea;
pub mod probe;
pub mod signin;
