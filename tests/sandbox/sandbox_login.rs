//! The sandbox's sign-in side over HTTP on 127.0.0.1: authorization code
//! with PKCE (the browser step done by the test as a request), device code
//! with pending polls, refresh, and Entra-shaped errors.

use base64::Engine as _;
use orchidea_wizard::sandbox::{
    Consent, DeviceCodePolicy, Sandbox, SandboxOptions, SignInBehaviour,
};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CLIENT: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
const SCOPE: &str = "https://graph.microsoft.com/Application.ReadWrite.All offline_access";

fn client() -> reqwest::Client {
    orchidea_wizard::platform::http::install_crypto_provider();
    // The redirect is read, not followed: it goes to the wizard's loopback.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

fn endpoint(sandbox: &Sandbox, name: &str) -> String {
    format!("{}organizations/oauth2/v2.0/{name}", sandbox.login_url)
}

async fn token(sandbox: &Sandbox, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = client()
        .post(endpoint(sandbox, "token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Redeems an authorization code at the token endpoint, as the wizard does.
async fn redeem_code(
    sandbox: &Sandbox,
    code: &str,
    redirect: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    token(
        sandbox,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh_with(sandbox: &Sandbox, refresh: &str) -> (StatusCode, Value) {
    token(
        sandbox,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", refresh),
        ],
    )
    .await
}

/// The browser step: returns the redirect's query pairs.
async fn authorize(
    sandbox: &Sandbox,
    challenge: Option<&str>,
    redirect: &str,
) -> reqwest::Response {
    let mut url = url::Url::parse(&endpoint(sandbox, "authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", SCOPE)
        .append_pair("state", "st-42");
    if let Some(c) = challenge {
        url.query_pairs_mut()
            .append_pair("code_challenge", c)
            .append_pair("code_challenge_method", "S256");
    }
    client().get(url).send().await.unwrap()
}

fn redirect_pairs(r: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "a redirect to the app");
    let location = r.headers()["location"].to_str().unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pair<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn authorization_code_with_pkce_signs_in_and_refreshes() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let verifier = "a-verifier-of-forty-three-characters-or-more-xyz";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    let redirect = "http://localhost:53111/callback";
    let pairs = redirect_pairs(&authorize(&sandbox, Some(&challenge), redirect).await);
    assert_eq!(pair(&pairs, "state"), Some("st-42"));
    let code = pair(&pairs, "code").expect("a code").to_string();

    // A wrong verifier is refused as Entra does; the code is then spent.
    let (status, body) = redeem_code(&sandbox, &code, redirect, "not-the-verifier").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS501481: The Code_Verifier does not match")
    );
    assert_eq!(body["error_codes"][0], 501_481);

    let code = pair(
        &redirect_pairs(&authorize(&sandbox, Some(&challenge), redirect).await),
        "code",
    )
    .unwrap()
    .to_string();
    let (status, body) = redeem_code(&sandbox, &code, redirect, verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["ext_expires_in"], 3599);
    let access = body["access_token"].as_str().unwrap().to_string();
    // The token opens the sandbox's Graph.
    let graph = client()
        .get(format!("{}/servicePrincipals", sandbox.graph_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(graph.status(), StatusCode::OK);

    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let (status, again) = refresh_with(&sandbox, &refresh).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_ne!(
        again["refresh_token"], body["refresh_token"],
        "a new refresh token"
    );
    // The same request again: a refresh token is used once.
    let (status, reused) = refresh_with(&sandbox, &refresh).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn without_pkce_or_with_a_foreign_redirect_there_is_no_code() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let pairs = redirect_pairs(&authorize(&sandbox, None, "http://127.0.0.1:53111/cb").await);
    assert_eq!(pair(&pairs, "error"), Some("invalid_request"));
    assert!(
        pair(&pairs, "error_description")
            .unwrap()
            .starts_with("AADSTS9002325")
    );
    assert_eq!(pair(&pairs, "code"), None);
    let r = authorize(&sandbox, Some("x"), "https://evil.example/cb").await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "never redirected off this computer"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_codes"][0], 50011);
}

#[tokio::test]
async fn device_code_is_pending_then_signed_in() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let r = client()
        .post(endpoint(&sandbox, "devicecode"))
        .form(&[("client_id", CLIENT), ("scope", SCOPE)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let dc: Value = r.json().await.unwrap();
    for field in ["user_code", "device_code", "verification_uri", "message"] {
        assert!(
            dc[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {dc}"
        );
    }
    assert!(
        dc["message"]
            .as_str()
            .unwrap()
            .contains(dc["user_code"].as_str().unwrap())
    );
    let device = dc["device_code"].as_str().unwrap().to_string();
    let grant = "urn:ietf:params:oauth:grant-type:device_code";
    let form = [
        ("grant_type", grant),
        ("client_id", CLIENT),
        ("device_code", device.as_str()),
    ];
    for _ in 0..orchidea_wizard::sandbox::login::PENDING_POLLS {
        let (status, body) = token(&sandbox, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("authorization_pending"))
        );
    }
    let (status, body) = token(&sandbox, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A token of its own, not the static one, and Graph accepts it where
    // its scope (Application.ReadWrite.All) is enough.
    let access = body["access_token"].as_str().unwrap();
    assert_ne!(access, sandbox.graph_token.expose());
    let graph = client()
        .get(format!("{}/servicePrincipals", sandbox.graph_url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(graph.status(), StatusCode::OK);
    assert!(
        body.get("id_token").is_none(),
        "no ID token without openid in scope"
    );
    assert_eq!(sandbox.login_stats().pending_polls, 2);
    assert_eq!(sandbox.login_stats().device_code, 1);
    let (status, body) = token(&sandbox, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("expired_token")),
        "used once"
    );
    let (_, body) = token(&sandbox, &[("grant_type", "password")]).await;
    assert_eq!(body["error"], "unsupported_grant_type");
}

async fn device_tokens(sandbox: &Sandbox, tenant: &str, scope: &str) -> (StatusCode, Value) {
    let r = client()
        .post(format!(
            "{}{tenant}/oauth2/v2.0/devicecode",
            sandbox.login_url
        ))
        .form(&[("client_id", CLIENT), ("scope", scope)])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let dc: Value = r.json().await.unwrap();
    if status != StatusCode::OK {
        return (status, dc);
    }
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", CLIENT),
        ("device_code", dc["device_code"].as_str().unwrap()),
    ];
    loop {
        let r = client()
            .post(format!("{}{tenant}/oauth2/v2.0/token", sandbox.login_url))
            .form(&form)
            .send()
            .await
            .unwrap();
        let (status, body): (StatusCode, Value) = (r.status(), r.json().await.unwrap());
        if body["error"] != "authorization_pending" {
            return (status, body);
        }
    }
}

#[tokio::test]
async fn access_tokens_expire_and_id_tokens_name_the_signed_in_user() {
    let sandbox = Sandbox::start(SandboxOptions {
        sign_in: Some(SignInBehaviour {
            access_token_lifetime_secs: Some(1),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    let (status, body) = device_tokens(&sandbox, "contoso.com", &format!("{SCOPE} openid")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 1);
    let id = body["id_token"].as_str().unwrap();
    let payload = id.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["preferred_username"], "alland@contoso.com");
    assert_eq!(claims["tid"], "520a5d7b-f0fe-5320-84c5-521bdcabbd8c");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = client()
        .get(format!("{}/me", sandbox.graph_url))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(
        err["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
}

#[tokio::test]
async fn simulated_refusals_have_entras_codes() {
    let cases = [
        (
            SignInBehaviour {
                consent: Consent::Required,
                ..Default::default()
            },
            "invalid_grant",
            65001,
        ),
        (
            SignInBehaviour {
                consent: Consent::Declined,
                ..Default::default()
            },
            "authorization_declined",
            70000,
        ),
        (
            SignInBehaviour {
                device_code: DeviceCodePolicy::BlockedByConditionalAccess,
                ..Default::default()
            },
            "invalid_grant",
            53003,
        ),
    ];
    for (behaviour, error, code) in cases {
        let sandbox = Sandbox::start(SandboxOptions {
            sign_in: Some(behaviour),
            ..Default::default()
        })
        .await
        .unwrap();
        let (status, body) = device_tokens(&sandbox, "organizations", SCOPE).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], error, "{body}");
        assert_eq!(body["error_codes"][0], code, "{body}");
    }
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let (status, body) = device_tokens(&sandbox, "fabrikam.example", SCOPE).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_tenant");
    assert_eq!(body["error_codes"][0], 90002);
}

#[tokio::test]
async fn the_tenant_files_sign_in_section_is_used_and_options_win() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant: Value = crate::common::default_tenant();
    tenant["signIn"] =
        serde_json::json!({ "consent": "declined", "roles": ["User Administrator"] });
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();
    let from_file = Sandbox::start(SandboxOptions {
        tenant_file: Some(path.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (_, body) = device_tokens(&from_file, "organizations", SCOPE).await;
    assert_eq!(body["error"], "authorization_declined");
    let overridden = Sandbox::start(SandboxOptions {
        tenant_file: Some(path),
        sign_in: Some(SignInBehaviour::default()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (status, _) = device_tokens(&overridden, "organizations", SCOPE).await;
    assert_eq!(status, StatusCode::OK);
}
