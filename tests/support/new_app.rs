//! A tenant without the Orchidea app, and the apps a run left behind:
//! what the create-the-app tests (step 2) read.

use serde_json::Value;

/// The built-in tenant without its Orchidea SCIM app (only the OIDC app
/// registration matches the name); a new app stays unseen for `delay_ms`.
pub fn tenant_without_the_app(delay_ms: Option<u64>) -> Value {
    let mut tenant = crate::common::default_tenant();
    tenant["servicePrincipals"]
        .as_array_mut()
        .unwrap()
        .retain(|sp| sp["displayName"] != "Orchidea");
    if let Some(ms) = delay_ms {
        tenant["replicationDelayMs"] = Value::from(ms);
    }
    tenant
}

/// Before either SSO article was followed: no Orchidea app in Entra (the
/// OIDC registration gone too), and a workspace whose IDPs are Google and
/// passwords only (no Entra IDP). The example tenant file admins practise
/// step 0 with, so the tests prove it.
pub fn tenant_from_nothing() -> Value {
    serde_json::from_str(include_str!("../../docs/examples/tenant-from-nothing.json")).unwrap()
}

/// The enterprise apps a dump holds under the name "Orchidea".
pub fn orchidea_apps(dump: &Value) -> Vec<&Value> {
    dump["entra"]["servicePrincipals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sp| sp["displayName"] == "Orchidea")
        .collect()
}
