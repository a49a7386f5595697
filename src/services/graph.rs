//! Thin typed Microsoft Graph client for the synchronization (provisioning) API.
//!
//! Every call goes through `GraphClient::send` (in [`client`]), which adds
//! the bearer token and a fresh `client-request-id`, and turns Graph's
//! error body into a [`GraphError`] ([`errors`]) an admin can act on.
//! Schemas stay raw JSON: they are round-tripped, and re-typing them loses
//! fields and enum casing.
//!
//! The endpoints are grouped by the article's step groups, like the engine
//! and the sandbox: [`app`] (step 2: the enterprise application),
//! [`credentials`] (steps 3–6: the job Automatic mode creates, Test
//! Connection, the saved secrets), [`mappings`] (steps 7–13: the schema),
//! [`scope`] (steps 14–15: assignments, users and groups) and [`start`]
//! (step 16: start/pause/restart, on-demand provisioning, the logs);
//! [`sso`] (step 0: the app's SAML settings, its signing certificate and
//! federation metadata) with [`sso_check`] (are they Orchidea's?). Group
//! "secret" (steps 1a–1c) makes no Graph call. [`account`] is the
//! signed-in account's `/me` and directory roles, which belong to no step.
//! [`types`] holds the wire types, [`provisioning`] the log and on-demand
//! answers, [`paging`] the bounds on `@odata.nextLink`, [`permissions`]
//! the delegated permission each call needs.

pub mod account;
pub mod app;
pub mod client;
pub mod credentials;
pub mod errors;
pub mod mappings;
pub mod paging;
pub mod permissions;
pub mod provisioning;
pub mod scope;
pub mod sso;
pub mod sso_check;
pub mod start;
pub mod types;

pub use account::DirectoryRole;
pub use app::NON_GALLERY_TEMPLATE_ID;
pub use client::{GraphClient, RetryPolicy, StaticToken, TokenSource};
pub use errors::GraphError;
pub use provisioning::{OnDemandError, OnDemandResult, OnDemandStep, Outcome, ProvisioningEvent};
pub use scope::DEFAULT_ACCESS_ROLE;
pub use sso::{
    KeyCredential, SamlAppUpdate, SamlApplication, SamlServicePrincipal, SamlSpUpdate,
    SelfSignedCertificate, WebApplication,
};
pub use sso_check::{OrchideaSaml, SamlIssue, check_saml};
pub use start::RestartScope;
pub use types::*;
