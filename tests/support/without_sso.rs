//! The built-in tenant as it was before Orchidea's SSO article was followed:
//! its Orchidea app has no SAML single sign-on, so the Identifier
//! `https://orchidea.dev` is free for a new app.

use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};

/// Starts the sandbox on that tenant; `opts.tenant_file` is replaced.
pub async fn start_without_sso(opts: SandboxOptions) -> Sandbox {
    let mut tenant = super::dump::default_tenant();
    for sp in tenant["servicePrincipals"].as_array_mut().unwrap() {
        sp.as_object_mut().unwrap().remove("saml");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    // The sandbox reads the file once, at start.
    Sandbox::start(SandboxOptions {
        tenant_file: Some(file),
        ..opts
    })
    .await
    .unwrap()
}
