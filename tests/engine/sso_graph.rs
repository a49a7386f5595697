//! The step-0 Graph calls (`services::graph::sso`) against the sandbox:
//! from a template instance still replicating to an app whose SAML
//! settings are Orchidea's, with a certificate the metadata carries; and
//! an identifier URI another app has, found and refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orchidea_wizard::Secret;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::sso::{
    certificate_thumbprint, metadata_signing_certificates,
};
use orchidea_wizard::services::graph::{
    GraphClient, GraphError, NON_GALLERY_TEMPLATE_ID, OrchideaSaml, RetryPolicy, SamlAppUpdate,
    SamlIssue, SamlSpUpdate, StaticToken, TokenSource, check_saml,
};

/// The sandbox's Graph token, counting how often it is asked for.
struct Counting(Secret, Arc<AtomicUsize>);

impl TokenSource for Counting {
    fn token(&self) -> futures::future::BoxFuture<'_, Result<Secret, GraphError>> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// A tenant whose Orchidea app has no SAML yet: the Identifier is free.
async fn sandbox(delay: Duration) -> Sandbox {
    crate::common::start_without_sso(SandboxOptions {
        replication_delay: Some(delay),
        record_requests: true,
        ..SandboxOptions::default()
    })
    .await
}

fn client(sandbox: &Sandbox) -> GraphClient {
    let token = Arc::new(StaticToken(Secret::new(sandbox.graph_token.expose())));
    with_token(sandbox, token)
}

fn counting_client(sandbox: &Sandbox, count: Arc<AtomicUsize>) -> GraphClient {
    let token = Secret::new(sandbox.graph_token.expose());
    with_token(sandbox, Arc::new(Counting(token, count)))
}

/// Millisecond backoff, and a replication wait far shorter than a real one.
fn with_token(sandbox: &Sandbox, token: Arc<dyn TokenSource>) -> GraphClient {
    GraphClient::with_retry(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.graph_url.clone(),
        token,
        RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            settle_within: Duration::from_secs(30),
            ..RetryPolicy::default()
        },
    )
}

async fn tenant_id(sandbox: &Sandbox) -> String {
    sandbox.dump().await["entra"]["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_new_app_gets_orchideas_saml_settings_and_a_certificate_its_metadata_carries() {
    let sandbox = sandbox(Duration::from_millis(600)).await;
    let tokens = Arc::new(AtomicUsize::new(0));
    let graph = counting_client(&sandbox, tokens.clone());
    let made = graph
        .instantiate_template(NON_GALLERY_TEMPLATE_ID, "Orchidea SSO")
        .await
        .unwrap();
    let (app_id, sp_id) = (
        made.application.id.clone(),
        made.service_principal.id.clone(),
    );
    let client_app_id = made.application.app_id.clone().unwrap();
    // Right after instantiate the objects are not readable: the plain
    // client gets Graph's 404, the settling one waits it through.
    let early = graph.get_application(&app_id).await;
    assert!(
        matches!(early, Err(GraphError::NotFound { .. })),
        "{early:?}"
    );
    let settling = graph.settling();
    let app = settling.get_application(&app_id).await.unwrap();
    assert_eq!(app.app_id.as_deref(), Some(client_app_id.as_str()));
    assert!(app.identifier_uris.is_empty() && app.web.redirect_uris.is_empty());
    assert!(!graph.take_retry_notes().is_empty(), "the wait was retried");

    let origin = sandbox.orchidea_url.clone();
    let want = OrchideaSaml::new("acme").with_origin(&origin);
    graph
        .update_application_saml(
            &app_id,
            &SamlAppUpdate::default()
                .identifier_uris(vec!["https://orchidea.dev".into()])
                .reply_urls(&app, vec![want.placeholder_reply_url()]),
        )
        .await
        .unwrap();
    graph
        .update_service_principal_sso(
            &sp_id,
            &SamlSpUpdate {
                preferred_single_sign_on_mode: Some("saml".into()),
                login_url: Some(want.sign_on_url()),
                ..SamlSpUpdate::default()
            },
        )
        .await
        .unwrap();
    let app = graph
        .find_application_by_app_id(&client_app_id)
        .await
        .unwrap()
        .expect("the app by its appId");
    let sp = graph.get_service_principal_sso(&sp_id).await.unwrap();
    let now = std::time::SystemTime::now();
    assert_eq!(
        check_saml(&app, &sp, &want, now),
        vec![SamlIssue::NoSigningCertificate]
    );

    let cert = graph
        .add_token_signing_certificate(&sp_id, "CN=Orchidea SSO", None)
        .await
        .unwrap();
    let key = cert.key.clone().unwrap();
    assert_eq!(certificate_thumbprint(&key).unwrap(), cert.thumbprint);
    graph
        .update_service_principal_sso(
            &sp_id,
            &SamlSpUpdate {
                preferred_token_signing_key_thumbprint: Some(cert.thumbprint.clone()),
                ..SamlSpUpdate::default()
            },
        )
        .await
        .unwrap();
    let sp = graph.get_service_principal_sso(&sp_id).await.unwrap();
    let active = sp.active_signing_certificate().unwrap();
    assert_eq!(active.thumbprint().unwrap(), cert.thumbprint);
    assert_eq!(check_saml(&app, &sp, &want, now), vec![]);
    assert_eq!(sandbox.saml_issues(&sp_id, &want).await.unwrap(), vec![]);

    // The metadata comes from the sign-in side, with no Graph token.
    let asked_before = tokens.load(Ordering::SeqCst);
    let xml = graph
        .federation_metadata(
            &sandbox.login_url,
            &tenant_id(&sandbox).await,
            &client_app_id,
        )
        .await
        .unwrap();
    assert_eq!(metadata_signing_certificates(&xml), vec![key]);
    assert_eq!(
        tokens.load(Ordering::SeqCst),
        asked_before,
        "no token was asked for the metadata"
    );

    // The reply URL Orchidea gives replaces the placeholder; the app's
    // other web settings (an admin's home page) are sent back unchanged.
    let mut web = graph.get_application(&app_id).await.unwrap().web;
    web.home_page_url = Some("https://intranet.example/orchidea".into());
    let home = SamlAppUpdate {
        web: Some(web),
        ..SamlAppUpdate::default()
    };
    graph.update_application_saml(&app_id, &home).await.unwrap();
    let given = format!("{}api/saml/login/idp-1", sandbox.orchidea_url);
    let read = graph.get_application(&app_id).await.unwrap();
    graph
        .update_application_saml(
            &app_id,
            &SamlAppUpdate::default().reply_urls(&read, vec![given.clone()]),
        )
        .await
        .unwrap();
    let read = graph.get_application(&app_id).await.unwrap();
    assert_eq!(read.web.redirect_uris, vec![given.clone()]);
    assert_eq!(
        read.web.home_page_url.as_deref(),
        Some("https://intranet.example/orchidea")
    );
    assert_eq!(
        read.web.other["implicitGrantSettings"]["enableIdTokenIssuance"],
        false
    );
    let want = want.with_reply_url(&given);
    assert_eq!(sandbox.saml_issues(&sp_id, &want).await.unwrap(), vec![]);
}

#[tokio::test]
async fn an_identifier_another_app_uses_is_found_and_refused() {
    let sandbox = sandbox(Duration::ZERO).await;
    let graph = client(&sandbox);
    let first = graph
        .instantiate_template(NON_GALLERY_TEMPLATE_ID, "Orchidea SSO")
        .await
        .unwrap();
    let second = graph
        .instantiate_template(NON_GALLERY_TEMPLATE_ID, "Orchidea SSO (2)")
        .await
        .unwrap();
    let identifier = SamlAppUpdate::default().identifier_uris(vec!["https://orchidea.dev".into()]);
    assert!(
        graph
            .applications_with_identifier_uri("https://orchidea.dev")
            .await
            .unwrap()
            .is_empty()
    );
    graph
        .update_application_saml(&first.application.id, &identifier)
        .await
        .unwrap();
    let users = graph
        .applications_with_identifier_uri("https://orchidea.dev")
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id, first.application.id);
    let refused = graph
        .update_application_saml(&second.application.id, &identifier)
        .await
        .unwrap_err();
    assert!(refused.is_identifier_uri_conflict(), "{refused:?}");
    assert!(refused.to_string().contains("HTTP 400"), "{refused}");
    // The first app keeps it; the second was left as it was.
    let second_app = graph.get_application(&second.application.id).await.unwrap();
    assert!(second_app.identifier_uris.is_empty());
    assert_eq!(
        graph
            .find_application_by_app_id("00000000-0000-0000-0000-0000000000ff")
            .await
            .unwrap(),
        None
    );
    let missing = graph
        .federation_metadata(
            &sandbox.login_url,
            &tenant_id(&sandbox).await,
            "00000000-0000-0000-0000-0000000000ff",
        )
        .await;
    assert!(
        matches!(missing, Err(GraphError::NotFound { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn the_metadata_of_a_new_app_is_waited_for_on_the_settling_client() {
    let sandbox = sandbox(Duration::from_millis(600)).await;
    let graph = client(&sandbox);
    let made = graph
        .instantiate_template(NON_GALLERY_TEMPLATE_ID, "Orchidea SSO")
        .await
        .unwrap();
    let app_id = made.application.app_id.unwrap();
    let tenant = tenant_id(&sandbox).await;
    let early = graph
        .federation_metadata(&sandbox.login_url, &tenant, &app_id)
        .await;
    assert!(
        matches!(early, Err(GraphError::NotFound { .. })),
        "{early:?}"
    );
    let xml = graph
        .settling()
        .federation_metadata(&sandbox.login_url, &tenant, &app_id)
        .await
        .unwrap();
    assert!(xml.contains("EntityDescriptor"));
    assert!(
        metadata_signing_certificates(&xml).is_empty(),
        "no certificate yet"
    );
    let notes = graph.take_retry_notes();
    assert!(
        notes.iter().any(|n| n.contains("federation metadata")),
        "{notes:?}"
    );
}
