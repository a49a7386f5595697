//! Orchidea's half of SAML SSO (#17) over real HTTP: the admin API client
//! against the sandbox's reference server (create an IDP from federation
//! metadata, read it, list it, each refusal), and the web UI stand-in's
//! Authentication page ("+ Add new IDP", "Copy reply URL").

use std::collections::BTreeMap;

use crate::common::{add_idp_by_hand, form, input_value};
use orchidea_wizard::sandbox::webui::authentication;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::{
    HttpOrchideaAdmin, NewSamlIdp, OrchideaAdmin, OrchideaError, ReplyUrlRules, SamlAttributeNames,
    parse_reply_url, pick_idp,
};
use serde_json::Value;
use url::Url;

/// Our own small valid identity provider metadata (shaped like Entra's), not the Entra side's.
const METADATA: &str = include_str!("../fixtures/saml/idp-metadata.xml");

/// The claim names Entra sends by default (given name, surname, email, name).
fn attributes() -> SamlAttributeNames {
    SamlAttributeNames::entra_default_claims()
}

fn new_idp(name: &str, metadata: &str) -> NewSamlIdp {
    NewSamlIdp {
        name: name.into(),
        metadata_xml: metadata.into(),
        attributes: attributes(),
        email_domains: vec!["contoso.com".into()],
    }
}

/// The base64 of the `IDPSSODescriptor`'s signing certificate in [`METADATA`].
fn fixture_certificate() -> String {
    let idp = &METADATA[METADATA.find("<IDPSSODescriptor").unwrap()..];
    let start = idp.find("<X509Certificate>").unwrap() + "<X509Certificate>".len();
    idp[start..start + idp[start..].find('<').unwrap()].to_string()
}

fn admin(sandbox: &Sandbox) -> HttpOrchideaAdmin {
    crate::common::admin_client(sandbox)
}

fn sandbox_rules() -> ReplyUrlRules<'static> {
    ReplyUrlRules {
        workspace_url: None,
        sandbox: true,
    }
}

#[tokio::test]
async fn an_idp_created_from_metadata_is_read_and_listed_with_its_reply_url() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let admin = admin(&sandbox);
    let created = admin
        .create_saml_idp(&new_idp("Entra ID (SAML)", METADATA))
        .await
        .unwrap();
    assert_eq!(created.kind, "saml");
    assert_eq!(created.name, "Entra ID (SAML)");
    assert_eq!(
        created.entity_id,
        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
    );
    assert_eq!(created.signing_certificates, [fixture_certificate()]);
    assert_eq!(created.attributes, attributes());
    assert_eq!(created.email_domains, ["contoso.com"]);
    // The reply URL is on the sandbox's own origin and passes the paste check.
    let expected = sandbox
        .orchidea_url
        .join(&format!("/api/saml/login/{}", created.id))
        .unwrap();
    assert_eq!(created.reply_url, expected);
    assert_eq!(
        parse_reply_url(created.reply_url.as_str(), sandbox_rules()).unwrap(),
        expected
    );

    let read = admin.get_saml_idp(&created.id).await.unwrap();
    assert_eq!(read, created);
    let listed = admin.list_idps().await.unwrap();
    let entry = listed.iter().find(|i| i.id == created.id).unwrap();
    assert_eq!(entry.kind, "saml");
    assert_eq!(entry.reply_url.as_deref(), Some(expected.as_str()));
    assert!(
        listed
            .iter()
            .filter(|i| i.id != created.id)
            .all(|i| i.reply_url.is_none())
    );
    // Step 1b can choose it and a SCIM secret can be made for it.
    assert_eq!(pick_idp(&listed, Some(&created.id)).unwrap().id, created.id);
    let secret = admin.create_scim_secret(&created.id).await.unwrap();
    assert_eq!(secret.idp_id, created.id);
    // The workspace holds the certificate the metadata carried.
    let dump = sandbox.dump().await;
    let held = &dump["orchidea"]["samlIdps"][0];
    assert_eq!(
        held["signingCertificates"][0],
        fixture_certificate().as_str()
    );
    assert_eq!(held["id"], created.id.as_str());
}

/// The wire as the contract writes it: status, `Location`, error codes.
#[tokio::test]
async fn the_wire_follows_the_contract() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let http = orchidea_wizard::platform::http::loopback_client();
    let url = |path: &str| sandbox.orchidea_url.join(path).unwrap();
    let post = |body: Value| {
        http.post(url("/api/admin/v1/idps"))
            .bearer_auth(sandbox.admin_token.expose())
            .json(&body)
            .send()
    };
    let body = |name: &str, metadata: &str| serde_json::to_value(new_idp(name, metadata)).unwrap();
    let answer = post(body("A", METADATA)).await.unwrap();
    assert_eq!(answer.status(), 201);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let created: Value = answer.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/admin/v1/idps/{}", created["id"].as_str().unwrap())
    );
    assert!(
        created["replyUrl"]
            .as_str()
            .unwrap()
            .ends_with(created["id"].as_str().unwrap())
    );

    let no_signing = METADATA.replace("use=\"signing\"", "use=\"encryption\"");
    let mut missing_attribute = body("C", METADATA);
    missing_attribute["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("userId");
    for (body, status, code) in [
        (
            body("B", "<html><body>Sign in</body></html>"),
            400,
            "invalid_metadata",
        ),
        (body("B", "not xml at all"), 400, "invalid_metadata"),
        (body("B", &no_signing), 400, "no_signing_certificate"),
        (body("a", METADATA), 409, "conflict"),
        (body("Microsoft Entra ID", METADATA), 409, "conflict"),
        (missing_attribute, 400, "invalid_request"),
        (serde_json::json!({ "name": "D" }), 400, "invalid_request"),
        (
            body("E", &format!("{METADATA}{}", " ".repeat(600 * 1024))),
            400,
            "invalid_request",
        ),
    ] {
        let answer = post(body).await.unwrap();
        assert_eq!(answer.status(), status, "{code}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{error}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    let answer = http
        .get(url("/api/admin/v1/idps/idp_gone"))
        .bearer_auth(sandbox.admin_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let unauthorised = http
        .post(url("/api/admin/v1/idps"))
        .json(&body("F", METADATA))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    // Only the first create landed.
    let dump = sandbox.dump().await;
    assert_eq!(dump["orchidea"]["samlIdps"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn each_refusal_reaches_the_admin_as_its_own_error() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let admin = admin(&sandbox);
    let before = admin.list_idps().await.unwrap();
    let not_saml = admin
        .create_saml_idp(&new_idp("X", "<html><body>Sign in</body></html>"))
        .await
        .unwrap_err();
    assert!(
        matches!(&not_saml, OrchideaError::MetadataRefused { message } if message.contains("html (no namespace)")),
        "{not_saml:?}"
    );
    let no_signing = METADATA.replace("use=\"signing\"", "use=\"encryption\"");
    assert_eq!(
        admin
            .create_saml_idp(&new_idp("X", &no_signing))
            .await
            .unwrap_err(),
        OrchideaError::MetadataWithoutSigningCertificate
    );
    assert_eq!(
        admin
            .create_saml_idp(&new_idp("google workspace", METADATA))
            .await
            .unwrap_err(),
        OrchideaError::IdpNameTaken {
            name: "google workspace".into()
        }
    );
    assert_eq!(
        admin.get_saml_idp("idp_gone").await.unwrap_err(),
        OrchideaError::IdpUnknown {
            id: "idp_gone".into()
        }
    );
    // An IDP of another kind has no SAML settings to read.
    assert_eq!(
        admin.get_saml_idp("idp-google").await.unwrap_err(),
        OrchideaError::IdpUnknown {
            id: "idp-google".into()
        }
    );
    let mut blank = new_idp("X", METADATA);
    blank.attributes.email = " ".into();
    assert!(matches!(
        admin.create_saml_idp(&blank).await.unwrap_err(),
        OrchideaError::Api { status: 400, ref code, .. } if code == "invalid_request"
    ));
    let wrong_token = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.orchidea_url.clone(),
        orchidea_wizard::Secret::new("not-the-token"),
    );
    assert_eq!(
        wrong_token
            .create_saml_idp(&new_idp("X", METADATA))
            .await
            .unwrap_err(),
        OrchideaError::TokenRejected
    );
    assert_eq!(
        admin.list_idps().await.unwrap(),
        before,
        "nothing was added"
    );
}

#[tokio::test]
async fn the_authentication_page_adds_an_idp_and_copies_the_reply_url_the_api_gives() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let http = orchidea_wizard::platform::http::loopback_client();
    let page = sandbox.orchidea_url.join(authentication::PATH).unwrap();
    let html = http
        .get(page.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("+ Add new IDP"), "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("Microsoft Entra ID"), "the IDP list: {html}");

    let copied = add_idp_by_hand(
        &sandbox.orchidea_url,
        "Entra SSO",
        "contoso.com, Fabrikam.com",
        METADATA,
    )
    .await;
    let reply: Url = parse_reply_url(&copied, sandbox_rules()).unwrap();
    let a = attributes();
    let fields = [
        ("name", "Entra SSO"),
        ("firstName", a.first_name.as_str()),
        ("lastName", a.last_name.as_str()),
        ("email", a.email.as_str()),
        ("userId", a.user_id.as_str()),
    ];
    let post = |(content_type, body): (String, Vec<u8>)| {
        http.post(page.clone())
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    // The API shows the same IDP with the same reply URL.
    let admin = admin(&sandbox);
    let listed = admin.list_idps().await.unwrap();
    let idp = listed.iter().find(|i| i.name == "Entra SSO").unwrap();
    assert_eq!(idp.reply_url.as_deref(), Some(reply.as_str()));
    let read = admin.get_saml_idp(&idp.id).await.unwrap();
    assert_eq!(read.reply_url, reply);
    assert_eq!(read.signing_certificates, [fixture_certificate()]);
    assert_eq!(read.attributes, a);
    assert_eq!(read.email_domains, ["contoso.com", "fabrikam.com"]);
    // The list on the page offers it too.
    let html = http
        .get(page.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        input_value(&html, &format!("reply-url-{}", idp.id)).as_deref(),
        Some(reply.as_str())
    );

    // Refusals: the page says why and nothing is added.
    let no_signing = METADATA.replace("use=\"signing\"", "use=\"encryption\"");
    let refused = post(form(&fields[1..], METADATA)).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("name is required"));
    let refused = post(form(&[("name", "Other")], &no_signing)).await.unwrap();
    assert_eq!(refused.status(), 400);
    let refused = post(form(
        &[
            ("name", "Other"),
            ("firstName", "g"),
            ("lastName", "s"),
            ("email", "e"),
            ("userId", "u"),
        ],
        &no_signing,
    ))
    .await
    .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("no signing certificate")
    );
    let taken = post(form(&fields, METADATA)).await.unwrap();
    assert_eq!(taken.status(), 409);
    assert!(
        taken
            .text()
            .await
            .unwrap()
            .contains("already has an IDP named")
    );
    let urlencoded = http
        .post(page.clone())
        .form(&[("name", "Plain")])
        .send()
        .await
        .unwrap();
    assert_eq!(urlencoded.status(), 400);
    assert_eq!(admin.list_idps().await.unwrap(), listed);
}

/// The catalogue rows of `docs/bad-input.md` for the SSO half (called from
/// `bad_input::every_catalogue_entry_gives_its_message`).
pub(crate) async fn bad_input_rows(
    rows: &mut BTreeMap<String, String>,
    check: impl Fn(&mut BTreeMap<String, String>, &str, &str),
) {
    let real = |input: &str| {
        parse_reply_url(input, ReplyUrlRules::default())
            .unwrap_err()
            .to_string()
    };
    let base = "https://app.orchidea.dev/api/saml/login/idp_1";
    check(rows, "reply-url-empty", &real(""));
    check(
        rows,
        "reply-url-not-url",
        &real("app.orchidea.dev/api/saml/login/idp_1"),
    );
    check(
        rows,
        "reply-url-line-break",
        &real("https://app.orchidea.dev/api/saml/\nlogin/idp_1"),
    );
    check(
        rows,
        "reply-url-inner-space",
        &real(&format!("Reply URL: {base}")),
    );
    check(
        rows,
        "reply-url-http",
        &real("http://app.orchidea.dev/api/saml/login/idp_1"),
    );
    check(
        rows,
        "reply-url-loopback",
        &real("http://127.0.0.1:4100/api/saml/login/idp_1"),
    );
    assert!(
        parse_reply_url(
            "http://127.0.0.1:4100/api/saml/login/idp_1",
            sandbox_rules()
        )
        .is_ok()
    );
    check(
        rows,
        "reply-url-credentials",
        &real("https://me:pw@app.orchidea.dev/api/saml/login/idp_1"),
    );
    check(rows, "reply-url-query", &real(&format!("{base}?x=1")));
    check(rows, "reply-url-fragment", &real(&format!("{base}#top")));
    check(
        rows,
        "reply-url-host",
        &real("https://login.microsoftonline.com/api/saml/login/idp_1"),
    );
    check(
        rows,
        "reply-url-path",
        &real("https://app.orchidea.dev/acme"),
    );
    check(
        rows,
        "reply-url-placeholder",
        &real("https://app.orchidea.dev/api/saml/login/"),
    );
    let spaced = parse_reply_url(&format!("  {base} \n"), ReplyUrlRules::default()).unwrap();
    check(rows, "reply-url-spaces", &format!("accepted as {spaced}"));

    // The admin API's refusals, from the reference server.
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let admin = admin(&sandbox);
    let refusal = |e: OrchideaError| e.to_string();
    check(
        rows,
        "idp-metadata-not-saml",
        &refusal(
            admin
                .create_saml_idp(&new_idp("X", "<html><body>Sign in</body></html>"))
                .await
                .unwrap_err(),
        ),
    );
    let no_signing = METADATA.replace("use=\"signing\"", "use=\"encryption\"");
    check(
        rows,
        "idp-metadata-no-signing-certificate",
        &refusal(
            admin
                .create_saml_idp(&new_idp("X", &no_signing))
                .await
                .unwrap_err(),
        ),
    );
    check(
        rows,
        "idp-name-taken",
        &refusal(
            admin
                .create_saml_idp(&new_idp("Microsoft Entra ID", METADATA))
                .await
                .unwrap_err(),
        ),
    );
    check(
        rows,
        "idp-unknown",
        &refusal(admin.get_saml_idp("idp_gone").await.unwrap_err()),
    );
    let used = admin
        .create_saml_idp(&new_idp("In use", METADATA))
        .await
        .unwrap();
    admin.create_scim_secret(&used.id).await.unwrap();
    check(
        rows,
        "idp-in-use",
        &refusal(admin.delete_saml_idp(&used.id).await.unwrap_err()),
    );
}

/// An Orchidea whose API answers a reply URL the paste field would refuse:
/// the client refuses it too, so nothing reaches Entra.
#[tokio::test]
async fn a_reply_url_from_the_api_is_held_to_the_paste_rules() {
    use axum::routing::get;
    let idp = |reply: &str| {
        serde_json::json!({
            "id": "idp_1", "name": "Entra", "kind": "saml", "default": false,
            "replyUrl": reply, "entityId": "https://sts.windows.net/t/",
            "ssoUrl": "https://login.microsoftonline.com/t/saml2",
            "signingCertificates": [fixture_certificate()],
            "attributes": attributes(), "emailDomains": [],
            "createdAt": "2026-03-01T10:15:00Z"
        })
    };
    let good = idp("https://app.orchidea.dev/api/saml/login/idp_1");
    let placeholder = idp("https://app.orchidea.dev/api/saml/login/");
    let elsewhere = idp("https://login.example.net/api/saml/login/idp_1");
    let app = axum::Router::new()
        .route(
            "/api/admin/v1/idps/good",
            get(move || async move { axum::Json(good) }),
        )
        .route(
            "/api/admin/v1/idps/placeholder",
            get(move || async move { axum::Json(placeholder) }),
        )
        .route(
            "/api/admin/v1/idps/elsewhere",
            get(move || async move { axum::Json(elsewhere) }),
        );
    let base = crate::common::serve(app).await;
    let admin = HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        base,
        orchidea_wizard::Secret::generate(32),
    );
    let read = admin.get_saml_idp("good").await.unwrap();
    assert_eq!(
        read.reply_url.as_str(),
        "https://app.orchidea.dev/api/saml/login/idp_1"
    );
    for (id, problem) in [
        ("placeholder", "placeholder"),
        ("elsewhere", "login.example.net"),
    ] {
        let e = admin.get_saml_idp(id).await.unwrap_err();
        assert!(
            matches!(e, OrchideaError::ApiReplyUrl { .. }),
            "{id}: {e:?}"
        );
        let text = e.to_string();
        assert!(text.contains(problem), "{id}: {text}");
        assert!(text.contains("Nothing was changed in Entra"), "{text}");
    }
}

/// Undo's side: a SAML IDP is removed once no live SCIM secret uses it.
#[tokio::test]
async fn a_saml_idp_is_deleted_once_no_live_secret_uses_it() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let admin = admin(&sandbox);
    let before = admin.list_idps().await.unwrap();
    let idp = admin
        .create_saml_idp(&new_idp("To remove", METADATA))
        .await
        .unwrap();
    let secret = admin.create_scim_secret(&idp.id).await.unwrap();
    assert_eq!(
        admin.delete_saml_idp(&idp.id).await.unwrap_err(),
        OrchideaError::IdpInUse { id: idp.id.clone() }
    );
    assert!(admin.get_saml_idp(&idp.id).await.is_ok(), "kept");
    admin.revoke_scim_secret(&secret.id).await.unwrap();
    admin.delete_saml_idp(&idp.id).await.unwrap();
    assert_eq!(admin.list_idps().await.unwrap(), before);
    assert_eq!(
        admin.get_saml_idp(&idp.id).await.unwrap_err(),
        OrchideaError::IdpUnknown { id: idp.id.clone() }
    );
    assert_eq!(
        admin.delete_saml_idp(&idp.id).await.unwrap_err(),
        OrchideaError::IdpUnknown { id: idp.id.clone() },
        "gone: a second delete is a 404 the caller treats as done"
    );
    assert_eq!(
        admin.delete_saml_idp("idp-entra").await.unwrap_err(),
        OrchideaError::IdpUnknown {
            id: "idp-entra".into()
        },
        "only SAML IDPs are removed here"
    );
}
