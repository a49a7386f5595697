//! Every row of the bad-input catalogue (`docs/bad-input.md`) checked
//! against the code: the message the admin reads, and that nothing was
//! changed.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use orchidea_wizard::engine::{Engine, parse_email, parse_threshold};
use orchidea_wizard::procedure::mapping::{self, MappingOptions};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::connect;
use orchidea_wizard::services::graph::{GraphClient, RetryPolicy, StaticToken};
use orchidea_wizard::services::orchidea::{parse_scim_url, parse_scim_url_for, parse_secret};
use orchidea_wizard::setup::{self, Choices};
use orchidea_wizard::{Secret, StepId};
use serde_json::Value;

/// id → expected message, from the catalogue table.
fn catalogue() -> BTreeMap<String, String> {
    let doc = include_str!("../../docs/bad-input.md");
    let table = doc
        .split("<!-- catalogue -->")
        .nth(1)
        .and_then(|t| t.split("<!-- /catalogue -->").next())
        .expect("the catalogue markers");
    table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| id ") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "three cells: {l}");
            (cells[0].to_string(), cells[2].to_string())
        })
        .collect()
}

#[track_caller]
fn check(rows: &mut BTreeMap<String, String>, id: &str, actual: &str) {
    let expected = rows
        .remove(id)
        .unwrap_or_else(|| panic!("{id} is not in the catalogue"));
    match expected.strip_suffix('…') {
        Some(prefix) => assert!(
            actual.starts_with(prefix.trim_end()),
            "{id}:\n  read:     {actual}\n  expected: {expected}"
        ),
        None => assert_eq!(actual, expected, "{id}"),
    }
}

fn err<T: std::fmt::Debug, E: ToString>(r: Result<T, E>) -> String {
    r.map(|v| panic!("accepted: {v:?}"))
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn every_catalogue_entry_gives_its_message() {
    let mut rows = catalogue();
    assert!(rows.len() >= 20, "{rows:?}");

    // Typed input: refused before anything runs.
    check(&mut rows, "url-empty", &err(parse_scim_url("")));
    check(
        &mut rows,
        "url-not-url",
        &err(parse_scim_url("orchidea scim")),
    );
    check(
        &mut rows,
        "url-http",
        &err(parse_scim_url("http://acme.orchidea.com/scim/v2")),
    );
    check(
        &mut rows,
        "url-loopback",
        &err(parse_scim_url_for("http://127.0.0.1:8080/scim/v2", false)),
    );
    assert!(
        parse_scim_url_for("http://127.0.0.1:8080/scim/v2", true).is_ok(),
        "the sandbox"
    );
    check(
        &mut rows,
        "url-query",
        &err(parse_scim_url("https://acme.orchidea.com/scim/v2?x=1")),
    );
    check(
        &mut rows,
        "url-fragment",
        &err(parse_scim_url("https://acme.orchidea.com/scim/v2#top")),
    );
    check(
        &mut rows,
        "url-credentials",
        &err(parse_scim_url("https://admin:pw@acme.orchidea.com/scim/v2")),
    );
    let spaced = parse_scim_url("  https://acme.orchidea.com/scim/v2/ \n").unwrap();
    check(&mut rows, "url-spaces", &format!("accepted as {spaced}"));
    check(&mut rows, "secret-empty", &err(parse_secret("")));
    check(&mut rows, "secret-blank", &err(parse_secret("   ")));
    check(
        &mut rows,
        "secret-line-break",
        &err(parse_secret("abc123\ndef456")),
    );
    check(
        &mut rows,
        "secret-inner-space",
        &err(parse_secret("abc 123")),
    );
    check(
        &mut rows,
        "secret-bearer",
        &err(parse_secret("Bearer abc123")),
    );
    check(
        &mut rows,
        "secret-url",
        &err(parse_secret("https://acme.orchidea.com/scim/v2")),
    );
    check(&mut rows, "email", &err(parse_email("admin")));
    check(
        &mut rows,
        "tenant-personal",
        &err(connect::parse_tenant("common")),
    );
    check(
        &mut rows,
        "tenant-not-a-tenant",
        &err(connect::parse_tenant("contoso")),
    );
    check(
        &mut rows,
        "client-id",
        &err(connect::parse_client_id("my-app")),
    );
    check(
        &mut rows,
        "cloud",
        &err(orchidea_wizard::platform::cloud::Cloud::parse("germany")),
    );
    check(
        &mut rows,
        "endpoint-http",
        &err(connect::parse_endpoint(
            "http://login.example.com/",
            "sign-in URL",
        )),
    );
    check(
        &mut rows,
        "endpoint-http-orchidea",
        &err(connect::parse_endpoint(
            "http://acme.orchidea.example/",
            "Orchidea workspace URL",
        )),
    );
    // Hand-edited settings: the CLI uses them when no flag replaces them.
    let saved =
        |login: Option<&str>, graph: Option<&str>| orchidea_wizard::platform::settings::Settings {
            login_url: login.map(|u| u.parse().unwrap()),
            graph_url: graph.map(|u| u.parse().unwrap()),
            ..Default::default()
        };
    let no_flags = connect::Overrides::default();
    check(
        &mut rows,
        "endpoint-http-saved-login",
        &err(connect::signin_config(
            &saved(Some("http://login.example.com/"), None),
            &no_flags,
        )),
    );
    check(
        &mut rows,
        "endpoint-http-saved-graph",
        &err(connect::signin_config(
            &saved(None, Some("http://graph.example.com/v1.0")),
            &no_flags,
        )),
    );
    check(
        &mut rows,
        "endpoint-foreign-graph",
        &err(connect::signin_config(
            &orchidea_wizard::platform::settings::Settings::default(),
            &connect::Overrides {
                graph_url: Some("https://graph.example.net/v1.0".into()),
                ..connect::Overrides::default()
            },
        )),
    );
    check(&mut rows, "threshold", &err(parse_threshold("0")));

    // Nobody answers at the Graph URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere: url::Url = format!("http://{}/v1.0", closed.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(closed);
    let graph = GraphClient::with_retry(
        orchidea_wizard::platform::http::loopback_client(),
        nowhere,
        Arc::new(StaticToken(Secret::new("t"))),
        RetryPolicy::none(),
    );
    check(
        &mut rows,
        "unknown-graph",
        &err(graph.find_service_principals("Orchidea").await),
    );

    // The OIDC registration cannot provision: refused, nothing created.
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    engine.discover().await.unwrap();
    let oidc = engine
        .facts()
        .await
        .candidates
        .iter()
        .find(|c| !c.capability.can_provision())
        .map(|c| c.service_principal.id.clone())
        .unwrap();
    check(
        &mut rows,
        "app-cannot-provision",
        &err(engine.choose_app(&oidc).await),
    );
    assert!(
        jobs(&sandbox.dump().await).is_empty(),
        "nothing was created"
    );

    // Run again while Entra has not shown the app an earlier run created
    // (an hour ago): waited for, then refused rather than made twice.
    let remembered = orchidea_wizard::engine::Facts {
        created_earlier: Some(orchidea_wizard::engine::resume::CreatedApp {
            service_principal_id: Some("0f5bd7e2-1c54-4c3b-a1f0-3c29b5a0d6e4".into()),
            app_id: None,
            tenant_id: None,
            display_name: "Contoso SCIM".into(),
            at: humantime::format_rfc3339_seconds(
                std::time::SystemTime::now() - std::time::Duration::from_secs(3600),
            )
            .to_string(),
        }),
        ..Default::default()
    };
    let run_state = sandbox.wizard_dir.join("run-state.json");
    orchidea_wizard::engine::resume::save(
        &run_state,
        &orchidea_wizard::engine::resume::RunState::from_facts(
            sandbox.graph_url.as_str(),
            &remembered,
            orchidea_wizard::engine::Scope::Assigned,
        ),
    )
    .unwrap();
    let mut cfg = setup::sandbox_config(
        &sandbox,
        None,
        Choices {
            app_name: "Contoso SCIM".into(),
            create_app: true,
            ..Choices::default()
        },
    );
    cfg.graph = cfg
        .graph
        .with_settle_within(std::time::Duration::from_millis(200));
    let again = Engine::new(cfg);
    check(
        &mut rows,
        "created-app-unseen",
        &err(again.run_step(StepId::OpenEnterpriseApp).await),
    );
    let _ = std::fs::remove_file(&run_state);
    assert!(
        sandbox.dump().await["entra"]["servicePrincipals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|sp| sp["displayName"] != "Contoso SCIM"),
        "nothing was created"
    );

    // A wrong Orchidea admin token is refused by the check before use.
    check(
        &mut rows,
        "orchidea-admin-token",
        &err(connect::check_orchidea(
            orchidea_wizard::platform::http::loopback_client(),
            &sandbox.orchidea_url,
            &Secret::new("not-the-admin-token"),
        )
        .await),
    );
    assert!(orchidea_secrets(&sandbox.dump().await).is_empty());

    // A quarantined job: said before anything runs.
    let quarantined = Sandbox::start(SandboxOptions {
        faults: vec![orchidea_wizard::sandbox::Fault::parse("scim:POST:/Users:503x1").unwrap()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let first = Engine::new(setup::sandbox_config(
        &quarantined,
        None,
        Choices::default(),
    ));
    first
        .run_all(&orchidea_wizard::engine::AlwaysYes)
        .await
        .unwrap();
    quarantined.wait_idle().await;
    let next = Engine::new(setup::sandbox_config(
        &quarantined,
        None,
        Choices::default(),
    ));
    next.discover().await.unwrap();
    let warnings = next.facts().await.warnings;
    let warning = warnings
        .iter()
        .find(|w| w.contains("quarantine"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    check(&mut rows, "job-quarantine", warning);

    // Schemas the mapping edit cannot work with: refused before any write.
    let mut schema: Value =
        serde_json::from_str(include_str!("../fixtures/graph/schema-scim-default.json")).unwrap();
    let mut no_user = schema.clone();
    for rule in no_user["synchronizationRules"].as_array_mut().unwrap() {
        rule["objectMappings"]
            .as_array_mut()
            .unwrap()
            .retain(|m| m["sourceObjectName"] != "User");
    }
    check(
        &mut rows,
        "schema-no-user-mapping",
        &err(mapping::plan(&no_user, &MappingOptions::default())),
    );
    for dir in schema["directories"].as_array_mut().unwrap() {
        for object in dir["objects"].as_array_mut().unwrap() {
            for attr in object["attributes"].as_array_mut().unwrap() {
                if attr["name"] == "emails[type eq \"work\"].value" {
                    attr["required"] = Value::Bool(true);
                }
            }
        }
    }
    check(
        &mut rows,
        "schema-required",
        &err(mapping::plan(&schema, &MappingOptions::default())),
    );

    // Graph answering something undocumented.
    let odd = serve(axum::Router::new().fallback(|| async { "<html>sign in</html>" })).await;
    let graph = GraphClient::with_retry(
        orchidea_wizard::platform::http::loopback_client(),
        odd.join("v1.0").unwrap(),
        Arc::new(StaticToken(Secret::new("t"))),
        RetryPolicy::none(),
    );
    check(
        &mut rows,
        "graph-unexpected-body",
        &err(graph.list_jobs("sp-1").await),
    );

    bounded_answers(&mut rows).await;
    // The remembered sign-in: an answer that is no token keeps it; a
    // damaged entry is named and not used.
    for (id, status) in [("remembered-html", 200), ("remembered-proxy-error", 502)] {
        let page = axum::Router::new().fallback(move || async move {
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [("content-type", "text/html; charset=utf-8")],
                "<html>Please sign in to the network</html>",
            )
        });
        let mut cfg = orchidea_wizard::services::signin::SignInConfig::for_cloud(
            orchidea_wizard::platform::cloud::Cloud::Global,
        );
        cfg.login_url = serve(page).await;
        let store: Arc<dyn orchidea_wizard::platform::credstore::CredentialStore> =
            Arc::new(orchidea_wizard::platform::credstore::SessionStore::new());
        let key = connect::refresh_key(&cfg);
        store.set(&key, &Secret::new("good-refresh-token")).unwrap();
        let e = err(connect::remembered(
            &cfg,
            &orchidea_wizard::platform::http::loopback_client(),
            &store,
        )
        .await);
        check(&mut rows, id, &e);
        assert!(store.get(&key).unwrap().is_some(), "{id}: kept");
    }
    let mock = keyring_core::mock::Store::new().unwrap();
    let store: Arc<dyn orchidea_wizard::platform::credstore::CredentialStore> =
        Arc::new(orchidea_wizard::platform::credstore::KeyringStore::new(
            mock.clone(),
            orchidea_wizard::platform::credstore::MAX_BLOB,
        ));
    let cfg = orchidea_wizard::services::signin::SignInConfig::for_cloud(
        orchidea_wizard::platform::cloud::Cloud::Global,
    );
    {
        use keyring_core::api::CredentialStoreApi;
        mock.build(
            orchidea_wizard::platform::credstore::SERVICE,
            &connect::refresh_key(&cfg),
            None,
        )
        .unwrap()
        .set_secret(b"plain-refresh-token")
        .unwrap();
    }
    match connect::remembered(
        &cfg,
        &orchidea_wizard::platform::http::loopback_client(),
        &store,
    )
    .await
    .unwrap()
    {
        connect::Remembered::Unreadable(why) => check(&mut rows, "remembered-damaged", &why),
        other => panic!("a damaged entry: {other:?}"),
    }
    // Issue #14 items 3 and 8: a schema changed under the diff, and
    // backups of another tenant or job (tests/engine/stale_schema.rs and
    // tests/engine/restore.rs run them end to end).
    check(
        &mut rows,
        "schema-changed",
        &orchidea_wizard::engine::EngineError::SchemaChanged(Vec::new()).to_string(),
    );
    let here = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let backups = tempfile::tempdir().unwrap();
    let mut cfg = setup::sandbox_config(&here, None, Choices::default());
    cfg.backup_dir = Some(backups.path().to_path_buf());
    cfg.tenant_id = Some("bbbbbbbb-0000-0000-0000-00000000000b".into());
    let mine = Engine::new(cfg);
    for step in StepId::ALL {
        mine.run_step(step).await.unwrap();
        if step == StepId::AutomaticMode {
            break;
        }
    }
    let facts = mine.facts().await;
    let (sp, job) = (facts.app.unwrap().id, facts.job.unwrap().id);
    let mut theirs = orchidea_wizard::engine::backup::Backup::settings(
        here.graph_url.as_str(),
        &sp,
        &job,
        &[],
        "before step 15 (save settings)",
    );
    theirs.tenant_id = Some("aaaaaaaa-0000-0000-0000-00000000000a".into());
    check(
        &mut rows,
        "backup-other-tenant",
        &err(mine.restore_preview(&theirs).await),
    );
    let mut other_job = theirs.clone();
    other_job.tenant_id = None;
    other_job.job_id = "scim.another-job".into();
    check(
        &mut rows,
        "backup-other-job",
        &err(mine.restore_preview(&other_job).await),
    );
    orchidea_wizard::engine::backup::save(backups.path(), &mut theirs).unwrap();
    check(
        &mut rows,
        "backup-not-listed",
        &mine.backup_refusal(&theirs.id).await.unwrap(),
    );
    // A lost answer to an action that may have landed: not sent again.
    let gateway = serve(
        axum::Router::new().fallback(|| async { (axum::http::StatusCode::GATEWAY_TIMEOUT, "") }),
    )
    .await;
    let graph = GraphClient::with_retry(
        orchidea_wizard::platform::http::loopback_client(),
        gateway.join("v1.0").unwrap(),
        Arc::new(StaticToken(Secret::new("t"))),
        RetryPolicy::none(),
    );
    let lost = graph
        .provision_on_demand("sp-1", "job-1", "rule-1", "user-1")
        .await
        .unwrap_err();
    check(
        &mut rows,
        "on-demand-lost-answer",
        &orchidea_wizard::engine::EngineError::OnDemandUnconfirmed {
            user: "Adele Vance".into(),
            cause: lost.lost_answer_cause(),
        }
        .to_string(),
    );

    crate::orchidea_sso::bad_input_rows(&mut rows, check).await;
    crate::sso_undo::bad_input_rows(&mut rows, check).await;

    assert!(
        rows.is_empty(),
        "catalogue rows without a check: {:?}",
        rows.keys()
    );
}

/// Answers too big, `nextLink`s that loop or leave Graph, SCIM URLs from
/// Orchidea's API, hosts Entra cannot reach (issue #14, item 10).
async fn bounded_answers(rows: &mut BTreeMap<String, String>) {
    use axum::response::IntoResponse;
    let huge = || async { vec![b' '; 50 << 20] };
    let big = serve(axum::Router::new().fallback(huge)).await;
    let graph = |base: &url::Url| {
        GraphClient::with_retry(
            orchidea_wizard::platform::http::loopback_client(),
            base.join("v1.0").unwrap(),
            Arc::new(StaticToken(Secret::new("t"))),
            RetryPolicy::none(),
        )
    };
    check(
        rows,
        "graph-too-large",
        &err(graph(&big).list_users().await),
    );
    // A page whose next link is itself.
    let base: Arc<std::sync::OnceLock<url::Url>> = Arc::default();
    let own = Arc::clone(&base);
    let looping = serve(axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let own = Arc::clone(&own);
        async move {
            let next = own.get().unwrap().join(&uri.to_string()).unwrap();
            axum::Json(serde_json::json!({"value": [], "@odata.nextLink": next}))
        }
    }))
    .await;
    base.set(looping.clone()).unwrap();
    check(
        rows,
        "graph-next-link-loop",
        &err(graph(&looping).list_users().await),
    );
    let elsewhere = serve(axum::Router::new().fallback(|| async {
        axum::Json(serde_json::json!({
            "value": [],
            "@odata.nextLink": "https://graph.example.net/v1.0/users?$skiptoken=x",
        }))
    }))
    .await;
    check(
        rows,
        "graph-next-link-elsewhere",
        &err(graph(&elsewhere).list_users().await),
    );
    let orchidea = |base: &url::Url| {
        orchidea_wizard::services::orchidea::HttpOrchideaAdmin::new(
            orchidea_wizard::platform::http::loopback_client(),
            base.clone(),
            Secret::new("orchidea-admin-token-bad-input"),
        )
    };
    use orchidea_wizard::services::orchidea::OrchideaAdmin as _;
    check(
        rows,
        "orchidea-too-large",
        &err(orchidea(&big).workspace().await),
    );
    let odd_url = serve(axum::Router::new().fallback(|| async {
        axum::Json(serde_json::json!({"name": "Acme", "scimUrl": "http://acme.example/scim/v2"}))
            .into_response()
    }))
    .await;
    check(
        rows,
        "orchidea-api-scim-url",
        &err(orchidea(&odd_url).workspace().await),
    );
    let mut cfg = orchidea_wizard::services::signin::SignInConfig::for_cloud(
        orchidea_wizard::platform::cloud::Cloud::Global,
    );
    cfg.login_url = big.clone();
    check(
        rows,
        "token-too-large",
        &err(orchidea_wizard::services::signin::redeem_refresh_token(
            &cfg,
            &orchidea_wizard::platform::http::loopback_client(),
            &Secret::new("refresh-token-bad-input"),
        )
        .await),
    );
    let report = orchidea_wizard::services::probe::probe(
        &orchidea_wizard::platform::http::loopback_client(),
        &big.join("scim/v2").unwrap(),
        &Secret::new("scim-secret-bad-input"),
        &orchidea_wizard::services::probe::ProbeOptions::default(),
    )
    .await;
    check(
        rows,
        "scim-too-large",
        &report.first_failure().unwrap().to_string(),
    );
    check(
        rows,
        "scim-private-host",
        &orchidea_wizard::services::orchidea::scim_host_warning(
            &"https://192.168.1.10/scim/v2".parse().unwrap(),
        )
        .unwrap(),
    );
}
