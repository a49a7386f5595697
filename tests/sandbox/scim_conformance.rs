//! The sandbox's Orchidea SCIM server against RFC 7643/7644, over real HTTP:
//! one test per rule, and a third-party conformance checker (scim2-tester,
//! run through scim2-cli's `scim2 test`) run against it.

use std::path::PathBuf;

use orchidea_wizard::Secret;
use orchidea_wizard::sandbox::scim::{StandaloneScim, serve_standalone};
use reqwest::header;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Server {
    scim: StandaloneScim,
    secret: Secret,
    http: reqwest::Client,
}

struct Answer {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Value,
}

async fn start() -> Server {
    let secret = Secret::generate(40);
    let scim = serve_standalone(secret.clone()).await.unwrap();
    Server {
        scim,
        secret,
        http: orchidea_wizard::platform::http::loopback_client(),
    }
}

impl Server {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.scim.url))
            .bearer_auth(self.secret.expose());
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = text(header::CONTENT_TYPE).unwrap_or_default();
        let location = text(header::LOCATION);
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            location,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn patch(&self, path: &str, ops: Value) -> Answer {
        let body = json!({ "schemas": [PATCH_OP], "Operations": ops });
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// `GET /Users?filter=…` (URL-encoded).
    async fn filter(&self, endpoint: &str, filter: &str) -> Answer {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .finish();
        self.get(&format!("/{endpoint}?{query}")).await
    }

    /// Creates a user and returns it as the server answered.
    async fn user(&self, body: Value) -> Value {
        let answer = self.post("/Users", body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body
    }
}

// ---------------------------------------------------------------- the third-party checker

/// The checker `tests/run.sh` installs (a pinned venv in the checkout).
fn checker() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/scim-tester/bin/scim2")
}

/// One line of `scim2 test`'s report: `STATUS title`, then an indented reason.
#[derive(Debug, Clone)]
struct CheckLine {
    status: String,
    title: String,
    reason: String,
}

const STATUSES: [&str; 7] = [
    "SUCCESS",
    "COMPLIANT",
    "ACCEPTABLE",
    "DEVIATION",
    "ERROR",
    "CRITICAL",
    "SKIPPED",
];

fn parse_report(text: &str) -> Vec<CheckLine> {
    let mut lines: Vec<CheckLine> = Vec::new();
    for line in text.lines() {
        if let Some(reason) = line.strip_prefix("  ") {
            if let Some(last) = lines.last_mut() {
                if !last.reason.is_empty() {
                    last.reason.push('\n');
                }
                last.reason.push_str(reason);
            }
            continue;
        }
        let (status, title) = line.split_once(' ').unwrap_or((line, ""));
        if STATUSES.contains(&status) {
            lines.push(CheckLine {
                status: status.to_string(),
                title: title.to_string(),
                reason: String::new(),
            });
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_checker_finds_no_failure() {
    let bin = checker();
    assert!(
        bin.exists(),
        "the SCIM conformance checker is not installed at {}: run sh tests/run.sh",
        bin.display()
    );
    let server = start().await;
    let url = server.scim.url.to_string();
    // The secret goes through the environment, never the command line.
    let headers = format!("Authorization: Bearer {}", server.secret.expose());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .arg("test")
            .env("SCIM_CLI_URL", url)
            .env("SCIM_CLI_HEADERS", headers)
            .env("NO_COLOR", "1")
            // A proxy in the environment must not see loopback traffic.
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .output()
    })
    .await
    .unwrap()
    .expect("scim2 test runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = parse_report(&stdout);
    println!("{stdout}");
    assert!(!report.is_empty(), "no report: {stdout}\n{stderr}");
    let count = |s: &str| report.iter().filter(|l| l.status == s).count();
    println!(
        "scim2-tester: {} checks, {} passed, {} skipped, {} failed",
        report.len(),
        count("SUCCESS") + count("COMPLIANT") + count("ACCEPTABLE"),
        count("SKIPPED"),
        count("DEVIATION") + count("ERROR") + count("CRITICAL"),
    );
    // Anything but a pass is a failure unless listed here with its reason.
    let allowed = |l: &CheckLine| {
        ALLOWED.iter().any(|(status, title, reason, _why)| {
            l.status == *status && l.title == *title && l.reason.contains(reason)
        })
    };
    let failures: Vec<&CheckLine> = report
        .iter()
        .filter(|l| !["SUCCESS", "COMPLIANT", "ACCEPTABLE"].contains(&l.status.as_str()))
        .filter(|l| !allowed(l))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}\n{stderr}");
    assert!(
        count("SUCCESS") >= 90,
        "the checker ran fewer checks than it does against this server (103): {stdout}"
    );
}

/// Checker results that are not failures: (status, check, reason text, why).
/// Empty today: scim2-tester 0.5.2 has no checks for the optional features
/// `ServiceProviderConfig` marks unsupported (bulk, sort, `ETags`, password
/// change), and every other check passes. An entry belongs here only for
/// such a feature, with the reason.
const ALLOWED: [(&str, &str, &str, &str); 0] = [];

// ---------------------------------------------------------------- rules, one test each

fn assert_error(answer: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(answer.content_type.starts_with("application/scim+json"));
    assert_eq!(answer.body["schemas"], json!([ERROR]), "RFC 7644 §3.12");
    assert_eq!(
        answer.body["status"],
        json!(status.to_string()),
        "status is a string"
    );
    assert_eq!(
        answer.body["scimType"].as_str(),
        scim_type,
        "{}",
        answer.body
    );
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
}

fn ada() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": "Ada@Contoso.com",
        "externalId": "Ext-1",
        "active": true,
        "displayName": "Ada Lovelace",
        "name": { "givenName": "Ada", "familyName": "Lovelace" },
        "emails": [{ "type": "work", "value": "ada@contoso.com", "primary": true },
                   { "type": "home", "value": "ada@home.example" }],
        ENTERPRISE: { "employeeNumber": "42", "department": "Engines" }
    })
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("a ListResponse: {}", answer.body))
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// RFC 7644 §4: every schema a resource type names is served at /Schemas
/// and /Schemas/{id} (the enterprise extension was missing).
#[tokio::test]
async fn discovery_serves_every_schema_the_resource_types_name() {
    let s = start().await;
    let types = s.get("/ResourceTypes").await;
    assert_eq!(types.status, 200);
    assert_eq!(types.body["schemas"], json!([LIST]));
    let schemas = s.get("/Schemas").await;
    assert_eq!(schemas.body["schemas"], json!([LIST]));
    let served: Vec<&str> = schemas.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut named = Vec::new();
    for t in types.body["Resources"].as_array().unwrap() {
        named.push(t["schema"].as_str().unwrap().to_string());
        for e in t["schemaExtensions"].as_array().into_iter().flatten() {
            named.push(e["schema"].as_str().unwrap().to_string());
        }
        let one = s
            .get(&format!("/ResourceTypes/{}", t["id"].as_str().unwrap()))
            .await;
        assert_eq!(one.status, 200);
        assert_eq!(&one.body, t, "/ResourceTypes/{{id}} is the listed document");
        assert_eq!(
            t["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:ResourceType"])
        );
        assert!(
            t["meta"]["location"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/ResourceTypes/{}", t["id"].as_str().unwrap()))
        );
    }
    assert!(named.contains(&ENTERPRISE.to_string()));
    for urn in &named {
        assert!(served.contains(&urn.as_str()), "{urn} is not at /Schemas");
        let one = s.get(&format!("/Schemas/{urn}")).await;
        assert_eq!(one.status, 200, "/Schemas/{urn}");
        assert_eq!(one.body["id"], json!(urn));
        assert_eq!(one.body["meta"]["resourceType"], "Schema");
        assert!(
            one.body["attributes"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        );
    }
    assert_error(&s.get("/Schemas/urn:nope").await, 404, None);
    assert_error(&s.get("/ResourceTypes/Nope").await, 404, None);
}

/// RFC 7643 §5: `ServiceProviderConfig` says what is supported; the optional
/// features the server lacks are `supported: false`.
#[tokio::test]
async fn service_provider_config_advertises_what_is_served() {
    let s = start().await;
    let config = s.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert!(config.content_type.starts_with("application/scim+json"));
    let c = &config.body;
    assert_eq!(
        c["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(c["patch"]["supported"], true);
    assert_eq!(c["filter"]["supported"], true);
    assert!(c["filter"]["maxResults"].as_u64().is_some_and(|n| n > 0));
    for optional in ["bulk", "sort", "etag", "changePassword"] {
        assert_eq!(c[optional]["supported"], false, "{optional}");
    }
    assert_eq!(c["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert!(
        c["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with("/ServiceProviderConfig")
    );
}

/// RFC 7643 §3: a resource with enterprise attributes lists the extension's
/// URN in `schemas`, and one without them does not.
#[tokio::test]
async fn resources_list_the_extensions_they_carry() {
    let s = start().await;
    // Extension attributes sent without the URN in `schemas`.
    let created = s
        .user(json!({
            "schemas": [USER],
            "userName": "a@contoso.com",
            ENTERPRISE: { "department": "R&D" }
        }))
        .await;
    assert_eq!(created["schemas"], json!([USER, ENTERPRISE]));
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/Users/{id}")).await.body["schemas"],
        json!([USER, ENTERPRISE])
    );

    // The URN listed but no extension attributes (null is unassigned,
    // RFC 7643 §2.5): neither listed back nor stored.
    let plain = s
        .user(
            json!({"schemas": [USER, ENTERPRISE], "userName": "b@contoso.com",
                      "title": null, ENTERPRISE: {"manager": null}}),
        )
        .await;
    assert_eq!(plain["schemas"], json!([USER]));
    assert!(
        plain.get("title").is_none() && plain.get(ENTERPRISE).is_none(),
        "{plain}"
    );
    let pid = plain["id"].as_str().unwrap();
    // PATCH adds an extension attribute: the URN appears.
    let patched = s
        .patch(
            &format!("/Users/{pid}"),
            json!([{"op": "add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "7"}]),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(patched.body[ENTERPRISE]["employeeNumber"], "7");
    // ...and goes when the last one is removed.
    let removed = s
        .patch(
            &format!("/Users/{pid}"),
            json!([{"op": "remove", "path": format!("{ENTERPRISE}:employeeNumber")}]),
        )
        .await;
    assert_eq!(removed.body["schemas"], json!([USER]), "{}", removed.body);
    assert!(removed.body.get(ENTERPRISE).is_none());

    // Attributes under a schema the endpoint does not serve are refused,
    // not stored unlisted.
    let custom = s
        .post(
            "/Users",
            json!({
                "schemas": [USER, "urn:example:custom:2.0:User"],
                "userName": "c@contoso.com",
                "urn:example:custom:2.0:User": {"badge": "7"}
            }),
        )
        .await;
    assert_error(&custom, 400, Some("invalidValue"));
    // A URN with no attributes is what Entra's documented create-group
    // request sends beside the core schema: taken, and not listed back.
    let entra_group = s
        .post(
            "/Groups",
            json!({
                "schemas": [
                    GROUP,
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
                ],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName",
                "meta": {"resourceType": "Group"},
                "members": []
            }),
        )
        .await;
    assert_eq!(entra_group.status, 201, "{}", entra_group.body);
    assert_eq!(entra_group.body["schemas"], json!([GROUP]));
    let missing = s.post("/Users", json!({"userName": "d@contoso.com"})).await;
    assert_error(&missing, 400, Some("invalidValue"));
    let group_with_user_schema = s
        .post("/Groups", json!({"schemas": [USER], "displayName": "G"}))
        .await;
    assert_error(&group_with_user_schema, 400, Some("invalidValue"));
}

/// RFC 7644 §3.4.2.2: operators, and/or, attribute and value paths,
/// case-insensitive attribute names and operators, and string comparison
/// per the attribute's `caseExact`.
#[tokio::test]
async fn filters_follow_the_rfc() {
    let s = start().await;
    let ada = s.user(ada()).await;
    let ada_id = ada["id"].as_str().unwrap().to_string();
    let bob = s
        .user(
            json!({"schemas": [USER], "userName": "bob@fabrikam.com", "externalId": "ext-2",
                      "name": {"givenName": "Bob"}, "active": false}),
        )
        .await;
    let bob_id = bob["id"].as_str().unwrap().to_string();
    let cases: [(&str, Vec<&str>); 16] = [
        ("userName eq \"ada@contoso.com\"", vec![&ada_id]), // caseExact false
        ("externalId eq \"Ext-1\"", vec![&ada_id]),
        ("externalId eq \"ext-1\"", vec![]), // caseExact true
        ("userName co \"CONTOSO\"", vec![&ada_id]),
        ("userName sw \"bob\"", vec![&bob_id]),
        ("userName ew \".com\"", vec![&ada_id, &bob_id]),
        ("title pr", vec![]),
        ("displayName pr", vec![&ada_id]),
        ("name.givenName eq \"bob\"", vec![&bob_id]),
        (
            "emails[type eq \"work\"].value eq \"ada@contoso.com\"",
            vec![&ada_id],
        ),
        ("emails[type eq \"home\" and value co \"contoso\"]", vec![]),
        ("USERNAME EQ \"bob@fabrikam.com\"", vec![&bob_id]),
        (
            "active eq false or externalId eq \"Ext-1\"",
            vec![&ada_id, &bob_id],
        ),
        ("active eq true and name.givenName sw \"A\"", vec![&ada_id]),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"engines\"",
            vec![&ada_id],
        ),
        ("not (active eq true)", vec![&bob_id]),
    ];
    for (filter, want) in cases {
        let answer = s.filter("Users", filter).await;
        assert_eq!(answer.status, 200, "{filter}: {}", answer.body);
        assert_eq!(answer.body["schemas"], json!([LIST]));
        assert_eq!(ids(&answer), want, "{filter}");
        assert_eq!(answer.body["totalResults"], want.len(), "{filter}");
    }
    for bad in [
        "userName",
        "userName eq",
        "userName like \"a\"",
        "(userName eq \"a\"",
    ] {
        assert_error(&s.filter("Users", bad).await, 400, Some("invalidFilter"));
    }
}

/// RFC 7644 §3.5.2.1–3: add, replace and remove on core and extension
/// attributes, with and without `path`.
#[tokio::test]
async fn patch_add_replace_remove_on_core_and_extension_attributes() {
    let s = start().await;
    let id = s.user(ada()).await["id"].as_str().unwrap().to_string();
    let at = format!("/Users/{id}");
    let ok = |a: &Answer| assert_eq!(a.status, 200, "{}", a.body);

    let a = s
        .patch(
            &at,
            json!([{"op": "add", "path": "title", "value": "Countess"}]),
        )
        .await;
    ok(&a);
    assert_eq!(a.body["title"], "Countess");
    let a = s
        .patch(&at, json!([{"op": "add", "value": {"preferredLanguage": "en", ENTERPRISE: {"costCenter": "CC1"}}}]))
        .await;
    ok(&a);
    assert_eq!(a.body["preferredLanguage"], "en");
    assert_eq!(a.body[ENTERPRISE]["costCenter"], "CC1");
    assert_eq!(
        a.body[ENTERPRISE]["employeeNumber"], "42",
        "add merges into the extension"
    );

    let a = s
        .patch(
            &at,
            json!([{"op": "replace", "path": "name.familyName", "value": "King"}]),
        )
        .await;
    ok(&a);
    assert_eq!(
        a.body["name"],
        json!({"givenName": "Ada", "familyName": "King"})
    );
    let a = s
        .patch(&at, json!([{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Maths"}]))
        .await;
    ok(&a);
    assert_eq!(a.body[ENTERPRISE]["department"], "Maths");
    // The extension named as the path (RFC 7644 §3.10 URN form).
    let a = s
        .patch(
            &at,
            json!([{"op": "replace", "path": ENTERPRISE, "value": {"division": "Analytical"}}]),
        )
        .await;
    ok(&a);
    assert_eq!(a.body[ENTERPRISE]["division"], "Analytical");
    assert!(
        a.body
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.ends_with(":2.0")),
        "{}",
        a.body
    );
    let a = s
        .patch(&at, json!([{"op": "replace", "value": {"displayName": "A. King", "name.givenName": "Augusta"}}]))
        .await;
    ok(&a);
    assert_eq!(a.body["displayName"], "A. King");
    assert_eq!(a.body["name"]["givenName"], "Augusta");

    let a = s
        .patch(&at, json!([{"op": "remove", "path": "title"}]))
        .await;
    ok(&a);
    assert!(a.body.get("title").is_none());
    let a = s
        .patch(
            &at,
            json!([{"op": "remove", "path": format!("{ENTERPRISE}:costCenter")}]),
        )
        .await;
    ok(&a);
    assert!(a.body[ENTERPRISE].get("costCenter").is_none());
    let a = s
        .patch(&at, json!([{"op": "remove", "path": ENTERPRISE}]))
        .await;
    ok(&a);
    assert!(a.body.get(ENTERPRISE).is_none());
    assert_eq!(a.body["schemas"], json!([USER]));
    // What PATCH answered is what is stored.
    let got = s.get(&at).await.body;
    assert_eq!(got, a.body);

    assert_error(
        &s.patch(&at, json!([{"op": "remove"}])).await,
        400,
        Some("noTarget"),
    );
    assert_error(
        &s.patch(&at, json!([{"op": "frob", "path": "title", "value": 1}]))
            .await,
        400,
        Some("invalidSyntax"),
    );
    let no_schemas = s
        .send(
            reqwest::Method::PATCH,
            &at,
            Some(json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]})),
        )
        .await;
    assert_error(&no_schemas, 400, Some("invalidSyntax"));
}

/// RFC 7644 §3.5.2: value filters in paths; a filter that matches nothing
/// is noTarget (§3.5.2.2, §3.5.2.3); a malformed path is invalidPath.
#[tokio::test]
async fn patch_value_filter_paths() {
    let s = start().await;
    let id = s.user(ada()).await["id"].as_str().unwrap().to_string();
    let at = format!("/Users/{id}");
    let a = s
        .patch(&at, json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@analytical.org"}]))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["emails"][0]["value"], "ada@analytical.org");
    assert_eq!(
        a.body["emails"][1]["value"], "ada@home.example",
        "only the match changes"
    );
    let a = s
        .patch(
            &at,
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        )
        .await;
    assert_eq!(a.body["emails"].as_array().unwrap().len(), 1, "{}", a.body);

    let none = s
        .patch(
            &at,
            json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@y.z"}]),
        )
        .await;
    assert_error(&none, 400, Some("noTarget"));
    let none = s
        .patch(
            &at,
            json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
        )
        .await;
    assert_error(&none, 400, Some("noTarget"));
    for bad in [
        "emails[type eq \"work\"",
        "emails[type eq].value",
        "a.b[",
        "urn:example:nope:2.0:User:x",
    ] {
        let answer = s
            .patch(&at, json!([{"op": "replace", "path": bad, "value": "x"}]))
            .await;
        assert_error(&answer, 400, Some("invalidPath"));
    }
    // The failed operations changed nothing (PATCH is atomic, §3.5.2).
    assert_eq!(s.get(&at).await.body["emails"], a.body["emails"]);

    // Group members by value filter.
    let g = s
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": id}]}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap();
    let removed = s
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]),
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(
        s.get(&format!("/Groups/{gid}")).await.body["members"],
        json!([])
    );
}

/// RFC 7644 §3.5.2 and RFC 7643 §2.2: `id`, `meta` and readOnly
/// sub-attributes cannot be patched (400 mutability).
#[tokio::test]
async fn patch_refuses_read_only_attributes() {
    let s = start().await;
    let id = s.user(ada()).await["id"].as_str().unwrap().to_string();
    let at = format!("/Users/{id}");
    for (path, value) in [
        ("id", json!("other")),
        ("meta.created", json!("2000-01-01T00:00:00Z")),
        (&*format!("{ENTERPRISE}:manager.displayName"), json!("Boss")),
    ] {
        let answer = s
            .patch(
                &at,
                json!([{"op": "replace", "path": path, "value": value}]),
            )
            .await;
        assert_error(&answer, 400, Some("mutability"));
    }
    let answer = s
        .patch(&at, json!([{"op": "replace", "value": {"id": "other"}}]))
        .await;
    assert_error(&answer, 400, Some("mutability"));
    assert_eq!(s.get(&at).await.body["id"], json!(id));
}

/// RFC 7644 §3.5.1: PUT replaces the resource (what it omits is gone),
/// ignores readOnly values, keeps `id` and `meta.created`.
#[tokio::test]
async fn put_replaces_the_whole_resource() {
    let s = start().await;
    let before = s.user(ada()).await;
    let id = before["id"].as_str().unwrap();
    let answer = s
        .put(
            &format!("/Users/{id}"),
            json!({"schemas": [USER], "id": "ignored", "userName": "ada@contoso.com",
                   "meta": {"created": "2000-01-01T00:00:00Z"}, "displayName": "Ada"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let after = answer.body;
    assert_eq!(after["id"], json!(id));
    assert_eq!(after["displayName"], "Ada");
    assert!(after.get("emails").is_none() && after.get("externalId").is_none());
    assert!(after.get(ENTERPRISE).is_none());
    assert_eq!(after["schemas"], json!([USER]));
    assert_eq!(after["meta"]["created"], before["meta"]["created"]);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body, after);
    let other = s
        .user(json!({"schemas": [USER], "userName": "other@contoso.com"}))
        .await;
    let clash = s
        .put(
            &format!("/Users/{}", other["id"].as_str().unwrap()),
            json!({"schemas": [USER], "userName": "ADA@contoso.com"}),
        )
        .await;
    assert_error(&clash, 409, Some("uniqueness"));
    let missing = s
        .put(
            "/Users/nope",
            json!({"schemas": [USER], "userName": "x@y.z"}),
        )
        .await;
    assert_error(&missing, 404, None);
}

/// RFC 7644 §3.6: DELETE answers 204; the resource is then 404 everywhere.
#[tokio::test]
async fn delete_removes_the_resource() {
    let s = start().await;
    let id = s.user(ada()).await["id"].as_str().unwrap().to_string();
    let gone = s.delete(&format!("/Users/{id}")).await;
    assert_eq!(gone.status, 204);
    assert_error(&s.get(&format!("/Users/{id}")).await, 404, None);
    assert_error(&s.delete(&format!("/Users/{id}")).await, 404, None);
    let patch = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "add", "path": "title", "value": "x"}]),
        )
        .await;
    assert_error(&patch, 404, None);
    assert_eq!(
        s.filter("Users", "userName eq \"ada@contoso.com\"")
            .await
            .body["totalResults"],
        0
    );
}

/// RFC 7644 §3.12 and §3.3: errors are SCIM Error bodies; a duplicate
/// userName is 409 uniqueness; a body that is not JSON is invalidSyntax;
/// an unknown endpoint is a SCIM 404.
#[tokio::test]
async fn errors_are_scim_error_bodies() {
    let s = start().await;
    s.user(ada()).await;
    assert_error(&s.post("/Users", ada()).await, 409, Some("uniqueness"));
    let no_name = s
        .post("/Users", json!({"schemas": [USER], "externalId": "x"}))
        .await;
    assert_error(&no_name, 400, Some("invalidValue"));
    let garbage = s
        .http
        .post(format!("{}/Users", s.scim.url))
        .bearer_auth(s.secret.expose())
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidSyntax");
    assert_eq!(body["status"], "400");
    assert_error(&s.get("/Nothing").await, 404, None);
    let no_search_request = s
        .post("/Users/.search", json!({"filter": "userName pr"}))
        .await;
    assert_error(&no_search_request, 400, Some("invalidValue"));
    let not_allowed = s.post("/ServiceProviderConfig", json!({})).await;
    assert_error(&not_allowed, 405, None);
    assert_error(&s.delete("/Users").await, 405, None);
}

/// RFC 7643 §3.1: `meta` carries resourceType, created, lastModified and a
/// location equal to the Location header; no `version` (etag unsupported).
#[tokio::test]
async fn meta_describes_the_resource() {
    let s = start().await;
    let created = s.post("/Users", ada()).await;
    assert_eq!(created.status, 201);
    assert!(created.content_type.starts_with("application/scim+json"));
    let meta = &created.body["meta"];
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(
        meta["location"],
        json!(format!("{}/Users/{id}", s.scim.url))
    );
    assert_eq!(created.location.as_deref(), meta["location"].as_str());
    for stamp in ["created", "lastModified"] {
        let text = meta[stamp].as_str().unwrap();
        assert!(humantime::parse_rfc3339(text).is_ok(), "{stamp}: {text}");
    }
    assert!(meta.get("version").is_none(), "etag is not advertised");
    let group = s
        .post("/Groups", json!({"schemas": [GROUP], "displayName": "G"}))
        .await;
    assert_eq!(group.body["meta"]["resourceType"], "Group");
    assert_eq!(group.body["schemas"], json!([GROUP]));
}

/// RFC 7644 §3.4.2.4: startIndex is 1-based (less than 1 means 1), count
/// is a page size (0: only totalResults).
#[tokio::test]
async fn list_paging_follows_start_index_and_count() {
    let s = start().await;
    for i in 0..4 {
        s.user(json!({"schemas": [USER], "userName": format!("u{i}@contoso.com")}))
            .await;
    }
    let page = s.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page.body["totalResults"], 4);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "u1@contoso.com");
    let zero = s.get("/Users?count=0").await;
    assert_eq!(zero.body["totalResults"], 4);
    assert_eq!(zero.body["itemsPerPage"], 0);
    assert_eq!(zero.body["Resources"].as_array().map_or(0, Vec::len), 0);
    let below = s.get("/Users?startIndex=0&count=1").await;
    assert_eq!(below.body["startIndex"], 1);
    assert_eq!(below.body["Resources"][0]["userName"], "u0@contoso.com");
    let searched = s
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "userName sw \"u3\"", "startIndex": 1, "count": 5}),
        )
        .await;
    assert_eq!(searched.status, 200, "{}", searched.body);
    assert_eq!(searched.body["totalResults"], 1, "RFC 7644 §3.4.3");
    // At the root: every resource type; attributes a type lacks match nothing.
    s.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "u-team"}),
    )
    .await;
    let root = |filter: &str| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
               "filter": filter, "attributes": ["displayName", "userName"]})
    };
    let all = s.post("/.search", root("meta.resourceType pr")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["totalResults"], 5);
    let groups = s.post("/.search", root("displayName sw \"u-\"")).await;
    assert_eq!(groups.body["totalResults"], 1);
    assert_eq!(groups.body["Resources"][0]["meta"]["resourceType"], "Group");
    assert!(groups.body["Resources"][0].get("members").is_none());
}

/// RFC 7644 §3.4.2.5 / §3.9: `attributes` and `excludedAttributes`, down to
/// sub-attributes and extension attributes; id/schemas/meta always.
#[tokio::test]
async fn attributes_and_excluded_attributes() {
    let s = start().await;
    let id = s.user(ada()).await["id"].as_str().unwrap().to_string();
    let only = s
        .get(&format!(
            "/Users/{id}?attributes=name.givenName,{ENTERPRISE}:department"
        ))
        .await
        .body;
    assert_eq!(only["name"], json!({"givenName": "Ada"}));
    assert_eq!(only[ENTERPRISE], json!({"department": "Engines"}));
    assert!(only.get("userName").is_none() && only.get("emails").is_none());
    assert!(
        only.get("id").is_some() && only.get("meta").is_some() && only.get("schemas").is_some()
    );
    let without = s
        .get(&format!(
            "/Users?excludedAttributes=emails,{ENTERPRISE}:employeeNumber,name.familyName"
        ))
        .await
        .body;
    let r = &without["Resources"][0];
    assert!(r.get("emails").is_none());
    assert_eq!(r[ENTERPRISE], json!({"department": "Engines"}));
    assert_eq!(r["name"], json!({"givenName": "Ada"}));
    assert_eq!(r["userName"], "Ada@Contoso.com");
}

/// Entra's documented quirks stay accepted
/// (`application-provisioning-config-problem-scim-compatibility.md`):
/// capitalised `op`, "False" for `active`, member removal by value list.
#[tokio::test]
async fn entra_quirks_are_still_accepted() {
    let s = start().await;
    let id = s.user(ada()).await["id"].as_str().unwrap().to_string();
    let a = s
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Replace", "path": "active", "value": "False"},
                   {"op": "Add", "path": "nickName", "value": "Babs"}]),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["active"], false);
    assert_eq!(a.body["nickName"], "Babs");
    let g = s
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": id}]}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap();
    let removed = s
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "Remove", "path": "members", "value": [{"value": id}]}]),
        )
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(
        s.get(&format!("/Groups/{gid}")).await.body["members"],
        json!([])
    );
}
