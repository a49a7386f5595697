//! Step 0 on the sandbox's Graph and sign-in side, spoken over bare HTTP:
//! the `PATCH` requests of `concepts/application-saml-sso-configure-api.md` answer
//! 204 and read back, what Entra refuses is refused,
//! `addTokenSigningCertificate` makes a real certificate, and the app's
//! federation metadata carries it.

use crate::common::graph_api::Api;

use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::sso::{
    certificate_thumbprint, metadata_signing_certificates,
};
use orchidea_wizard::services::graph::{OrchideaSaml, SamlIssue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const NON_GALLERY: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";

/// On `tenant`, or else on a tenant whose Orchidea app has no SAML yet
/// (the Identifier is free).
async fn sandbox(tenant: Option<&std::path::Path>) -> Sandbox {
    let opts = SandboxOptions {
        tenant_file: tenant.map(std::path::Path::to_path_buf),
        replication_delay: Some(std::time::Duration::ZERO),
        ..SandboxOptions::default()
    };
    match tenant {
        Some(_) => Sandbox::start(opts).await.unwrap(),
        None => crate::common::start_without_sso(opts).await,
    }
}

/// A new non-gallery app: (application object id, appId, service principal id).
async fn new_app(api: &Api, name: &str) -> (String, String, String) {
    let made = api
        .post(
            &format!("/applicationTemplates/{NON_GALLERY}/instantiate"),
            json!({ "displayName": name }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let s = |v: &Value| v.as_str().unwrap().to_string();
    (
        s(&made.body["application"]["id"]),
        s(&made.body["application"]["appId"]),
        s(&made.body["servicePrincipal"]["id"]),
    )
}

async fn patch(api: &Api, path: &str, body: Value) -> crate::common::graph_api::Answer {
    api.call(Method::PATCH, path, Some(body)).await
}

async fn tenant_id(sandbox: &Sandbox) -> String {
    sandbox.dump().await["entra"]["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn metadata(sandbox: &Sandbox, tenant: &str, app_id: &str) -> (StatusCode, String) {
    let url = format!(
        "{}{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={app_id}",
        sandbox.login_url
    );
    let response = orchidea_wizard::platform::http::loopback_client()
        .get(url)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_basic_saml_settings_are_patched_with_204_and_read_back() {
    let sandbox = sandbox(None).await;
    let api = Api::new(&sandbox);
    let (app, app_id, sp) = new_app(&api, "Orchidea SSO").await;
    let fresh = api.get(&format!("/applications/{app}")).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!(fresh.body["identifierUris"], json!([]));
    assert_eq!(fresh.body["web"]["redirectUris"], json!([]));
    let reply = "https://app.orchidea.dev/api/saml/login/";
    let a = patch(
        &api,
        &format!("/applications/{app}"),
        json!({"identifierUris": ["https://orchidea.dev"], "web": {"redirectUris": [reply]}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.body);
    let s = patch(
        &api,
        &format!("/servicePrincipals/{sp}"),
        json!({"preferredSingleSignOnMode": "saml", "loginUrl": "https://app.orchidea.dev/acme"}),
    )
    .await;
    assert_eq!(s.status, StatusCode::NO_CONTENT, "{}", s.body);
    let read = api
        .get(&format!(
            "/applications?$filter=appId eq '{app_id}'&$select=id,identifierUris,web"
        ))
        .await;
    assert_eq!(read.body["value"][0]["id"], app.as_str());
    assert_eq!(
        read.body["value"][0]["identifierUris"],
        json!(["https://orchidea.dev"])
    );
    assert_eq!(read.body["value"][0]["web"]["redirectUris"], json!([reply]));
    let by_uri = api
        .get("/applications?$filter=identifierUris/any(x:x eq 'https://orchidea.dev')")
        .await;
    assert_eq!(by_uri.body["value"].as_array().unwrap().len(), 1);
    let sp_read = api
        .get(&format!(
            "/servicePrincipals/{sp}?$select=preferredSingleSignOnMode,loginUrl"
        ))
        .await;
    assert_eq!(sp_read.body["preferredSingleSignOnMode"], "saml");
    assert_eq!(sp_read.body["loginUrl"], "https://app.orchidea.dev/acme");
    // `web` is replaced as a whole: what a body leaves out is reset.
    let home =
        json!({"web": {"homePageUrl": "https://intranet.example/", "redirectUris": [reply]}});
    let a = patch(&api, &format!("/applications/{app}"), home).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.body);
    let only_replies = json!({"web": {"redirectUris": [reply]}});
    patch(&api, &format!("/applications/{app}"), only_replies).await;
    let read = api.get(&format!("/applications/{app}")).await;
    assert_eq!(read.body["web"]["homePageUrl"], Value::Null);
    assert_eq!(read.body["web"]["redirectUris"], json!([reply]));
    assert_eq!(read.body["identifierUris"], json!(["https://orchidea.dev"]));
    // Only the certificate is missing from what Orchidea asks.
    let want = OrchideaSaml::new("acme");
    assert_eq!(
        sandbox.saml_issues(&sp, &want).await.unwrap(),
        vec![SamlIssue::NoSigningCertificate]
    );
}

#[tokio::test]
async fn what_entra_refuses_is_refused_and_changes_nothing() {
    let sandbox = sandbox(None).await;
    let api = Api::new(&sandbox);
    let (first, _, _) = new_app(&api, "Orchidea SSO").await;
    let (second, _, sp) = new_app(&api, "Orchidea SSO 2").await;
    let taken = json!({"identifierUris": ["https://orchidea.dev"]});
    let ok = patch(&api, &format!("/applications/{first}"), taken.clone()).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let refused = [
        // Another app already has the identifier (case does not matter).
        (
            format!("/applications/{second}"),
            json!({"identifierUris": ["https://ORCHIDEA.dev"], "web": {"redirectUris": ["https://x.example/acs"]}}),
            "Another object with the same value for property identifierUris already exists.",
        ),
        (
            format!("/applications/{second}"),
            json!({"web": {"redirectUris": ["http://app.orchidea.dev/acs"]}}),
            "Invalid value specified for property 'redirectUris'",
        ),
        (
            format!("/applications/{second}"),
            json!({"web": {"redirectUris": ["https://app.orchidea.dev/acs(1)"]}}),
            "Invalid value specified for property 'redirectUris'",
        ),
        (
            format!("/applications/{second}"),
            json!({"identifierUris": "https://orchidea.dev"}),
            "Invalid value specified for property 'identifierUris'",
        ),
        (
            format!("/applications/{second}"),
            json!({"samlMetadataUrl": "https://x"}),
            "Property 'samlMetadataUrl' does not exist",
        ),
        (
            format!("/servicePrincipals/{sp}"),
            json!({"preferredSingleSignOnMode": "SAML2"}),
            "Invalid value specified for property 'preferredSingleSignOnMode'",
        ),
        (
            format!("/servicePrincipals/{sp}"),
            json!({"loginUrl": "not a url"}),
            "Invalid value specified for property 'loginUrl'",
        ),
        (
            format!("/servicePrincipals/{sp}"),
            json!({"preferredTokenSigningKeyThumbprint": "DA20FCA696C4F83E8A9AED59BE33368ED421F3C1"}),
            "Invalid value specified for property 'preferredTokenSigningKeyThumbprint'",
        ),
        (
            format!("/servicePrincipals/{sp}"),
            json!({"samlSingleSignOnSettings": {"relayState": "x"}}),
            "does not exist as a declared property",
        ),
    ];
    for (path, body, message) in refused {
        let a = patch(&api, &path, body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(a.body["error"]["code"], "Request_BadRequest", "{body}");
        let text = a.body["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
    }
    // Nothing of the refused bodies landed, not even their valid parts.
    let read = api.get(&format!("/applications/{second}")).await;
    assert_eq!(read.body["identifierUris"], json!([]));
    assert_eq!(read.body["web"]["redirectUris"], json!([]));
    let sp_read = api.get(&format!("/servicePrincipals/{sp}")).await;
    assert_eq!(sp_read.body["preferredSingleSignOnMode"], Value::Null);
    // An app's own identifier may be sent again; unknown ids are 404.
    let again = patch(&api, &format!("/applications/{first}"), taken).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let missing = "00000000-0000-0000-0000-000000000001";
    for path in [
        format!("/applications/{missing}"),
        format!("/servicePrincipals/{missing}"),
    ] {
        let a = patch(&api, &path, json!({"displayName": "x"})).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.body["error"]["code"], "Request_ResourceNotFound");
    }
}

#[tokio::test]
async fn a_token_signing_certificate_is_real_and_the_metadata_carries_it() {
    let sandbox = sandbox(None).await;
    let api = Api::new(&sandbox);
    let (_, app_id, sp) = new_app(&api, "Orchidea SSO").await;
    let tenant = tenant_id(&sandbox).await;
    let (status, bare) = metadata(&sandbox, &tenant, &app_id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metadata_signing_certificates(&bare).is_empty(), "{bare}");
    let add = |body: Value| {
        let api = &api;
        let sp = sp.clone();
        async move {
            api.post(
                &format!("/servicePrincipals/{sp}/addTokenSigningCertificate"),
                body,
            )
            .await
        }
    };
    for bad in [
        json!({"displayName": "Orchidea"}),
        json!({"displayName": "CN=Orchidea", "endDateTime": "2099-01-01T00:00:00Z"}),
        json!({"displayName": "CN=Orchidea", "endDateTime": "2001-01-01T00:00:00Z"}),
        json!({"displayName": "CN=Orchidea", "usage": "Sign"}),
    ] {
        let a = add(bad.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.body);
    }
    let first = add(json!({"displayName": "CN=Orchidea SSO"})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let cert = &first.body;
    assert_eq!(cert["type"], "AsymmetricX509Cert");
    assert_eq!(cert["usage"], "Verify");
    assert_eq!(cert["displayName"], "CN=Orchidea SSO");
    let key = cert["key"].as_str().unwrap();
    assert_eq!(
        certificate_thumbprint(key).unwrap(),
        cert["thumbprint"].as_str().unwrap(),
        "the thumbprint is the SHA-1 of the certificate returned"
    );
    // Three key objects per certificate: Sign and Verify keys and the password.
    let read = api
        .get(&format!(
            "/servicePrincipals/{sp}?$select=keyCredentials,passwordCredentials"
        ))
        .await;
    let keys = read.body["keyCredentials"].as_array().unwrap();
    let usages: Vec<&str> = keys.iter().map(|k| k["usage"].as_str().unwrap()).collect();
    assert_eq!(usages, ["Sign", "Verify"]);
    assert_eq!(keys[1]["key"], key);
    assert_eq!(keys[0]["key"], Value::Null, "no private key is handed out");
    assert_eq!(
        read.body["passwordCredentials"][0]["keyId"],
        keys[0]["keyId"]
    );
    let unselected = api.get(&format!("/servicePrincipals/{sp}")).await;
    assert_eq!(unselected.body["keyCredentials"][1]["key"], Value::Null);
    let (status, xml) = metadata(&sandbox, &tenant, &app_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(metadata_signing_certificates(&xml), vec![key.to_string()]);
    assert!(xml.contains(&format!("entityID=\"https://sts.windows.net/{tenant}/\"")));
    // A newer certificate is the one the metadata shows, until the older
    // one is made the preferred one.
    let second = add(json!({"displayName": "CN=Orchidea SSO 2"})).await;
    let newer = second.body["key"].as_str().unwrap();
    assert_ne!(newer, key);
    let (_, xml) = metadata(&sandbox, &tenant, &app_id).await;
    assert_eq!(metadata_signing_certificates(&xml), vec![newer.to_string()]);
    let prefer = patch(
        &api,
        &format!("/servicePrincipals/{sp}"),
        json!({"preferredTokenSigningKeyThumbprint": cert["thumbprint"].as_str().unwrap().to_lowercase()}),
    )
    .await;
    assert_eq!(prefer.status, StatusCode::NO_CONTENT, "{}", prefer.body);
    let (_, xml) = metadata(&sandbox, &tenant, &app_id).await;
    assert_eq!(metadata_signing_certificates(&xml), vec![key.to_string()]);
    // The entra page's spelling of the path, and the tenant's domain.
    let domain = sandbox.dump().await["entra"]["tenant"]["domain"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!(
        "{}{domain}/FederationMetadata/2007-06/FederationMetadata.xml?appid={app_id}",
        sandbox.login_url
    );
    let response = orchidea_wizard::platform::http::loopback_client()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let xml = response.text().await.unwrap();
    assert_eq!(metadata_signing_certificates(&xml), vec![key.to_string()]);
    // Another tenant, no app id, an unknown app.
    assert_eq!(
        metadata(&sandbox, "fabrikam.com", &app_id).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        metadata(&sandbox, &tenant, "").await.0,
        StatusCode::BAD_REQUEST
    );
    let unknown = "00000000-0000-0000-0000-000000000002";
    assert_eq!(
        metadata(&sandbox, &tenant, unknown).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_new_app_is_missing_from_applications_until_it_replicates() {
    let sandbox = Sandbox::start(SandboxOptions {
        replication_delay: Some(std::time::Duration::from_secs(3600)),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let (app, app_id, sp) = new_app(&api, "Orchidea SSO").await;
    for (method, path) in [
        (Method::GET, format!("/applications/{app}")),
        (Method::PATCH, format!("/applications/{app}")),
        (Method::PATCH, format!("/servicePrincipals/{sp}")),
        (
            Method::POST,
            format!("/servicePrincipals/{sp}/addTokenSigningCertificate"),
        ),
    ] {
        let a = api
            .call(method.clone(), &path, Some(json!({"displayName": "CN=x"})))
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let listed = api
        .get(&format!("/applications?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(listed.body["value"], json!([]));
    let tenant = tenant_id(&sandbox).await;
    assert_eq!(
        metadata(&sandbox, &tenant, &app_id).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_tenant_file_app_with_saml_configured_meets_orchideas_article() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant = crate::common::default_tenant();
    let orchidea = tenant["servicePrincipals"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|sp| sp["displayName"] == "Orchidea")
        .unwrap();
    orchidea["saml"] = json!({
        "identifierUris": ["https://orchidea.dev"],
        "replyUrls": ["https://app.orchidea.dev/api/saml/login/idp-1"],
        "signOnUrl": "https://app.orchidea.dev/acme",
        "signingCertificate": true,
    });
    let sp = orchidea["id"].as_str().unwrap().to_string();
    let app_id = orchidea["appId"].as_str().unwrap().to_string();
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();
    let sandbox = sandbox(Some(&path)).await;
    let want =
        OrchideaSaml::new("acme").with_reply_url("https://app.orchidea.dev/api/saml/login/idp-1");
    assert_eq!(sandbox.saml_issues(&sp, &want).await.unwrap(), vec![]);
    let other = OrchideaSaml::new("globex");
    assert!(matches!(
        sandbox.saml_issues(&sp, &other).await.unwrap().as_slice(),
        [SamlIssue::SignOnUrl { .. }]
    ));
    // Every tenant-file app has its application object; this one's
    // certificate is in its metadata.
    let api = Api::new(&sandbox);
    let (apps, _) = api.get_all("/applications").await;
    assert_eq!(
        apps.len(),
        tenant["servicePrincipals"].as_array().unwrap().len()
    );
    let (status, xml) = metadata(&sandbox, &tenant_id(&sandbox).await, &app_id).await;
    assert_eq!(status, StatusCode::OK);
    let certs = metadata_signing_certificates(&xml);
    let read = api
        .get(&format!("/servicePrincipals/{sp}?$select=keyCredentials"))
        .await;
    assert_eq!(
        certs,
        vec![
            read.body["keyCredentials"][1]["key"]
                .as_str()
                .unwrap()
                .to_string()
        ]
    );
    // A preset with a field the sandbox does not know is a tenant-file error.
    tenant["servicePrincipals"][0]["saml"] = json!({"identifier": "https://orchidea.dev"});
    std::fs::write(&path, tenant.to_string()).unwrap();
    let refused = Sandbox::start(SandboxOptions {
        tenant_file: Some(path),
        ..SandboxOptions::default()
    })
    .await;
    assert!(refused.is_err());
}
