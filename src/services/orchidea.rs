//! Orchidea's side of step 1: the admin API (contract in `docs/orchidea-admin-api.md`), its HTTP client, and the guided manual path.
//!
//! Orchidea publishes no admin API, so the wizard defines one behind
//! [`OrchideaAdmin`]; the manual path ([`ManualScim`]) always works: the admin
//! creates the secret in Orchidea's web UI and pastes the SCIM URL and secret,
//! which [`parse_scim_url`] and [`parse_secret`] check before the probe does.
//!
//! [`contract`] is the trait and its values, [`http`] the HTTP client,
//! [`manual`] the manual path and the checks on pasted values, [`sso`] the
//! SAML IDP's reply URL (#17), [`errors`] the messages.

pub mod contract;
pub mod errors;
pub mod http;
pub mod manual;
pub mod sso;

pub use contract::{
    CreatedSecret, Idp, NewSamlIdp, OrchideaAdmin, SamlAttributeNames, SamlIdp, SecretInfo,
    WorkspaceInfo,
};
pub use errors::OrchideaError;
pub use http::HttpOrchideaAdmin;
pub use manual::{
    ManualScim, parse_scim_url, parse_scim_url_for, parse_secret, pick_idp, scim_host_warning,
};
pub use sso::{ReplyUrlRules, add_idp_steps, parse_reply_url};
