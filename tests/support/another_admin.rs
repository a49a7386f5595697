//! What another admin does in Entra behind the wizard's back, through
//! Graph: the drift the check must name.

use std::path::Path;

use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;

/// Another admin sources userName from userPrincipalName: the schema is
/// read and written back through Graph, behind the window's back.
pub async fn change_user_name(sandbox: &Sandbox) {
    let http = orchidea_wizard::platform::http::loopback_client();
    let base = sandbox.graph_url.as_str().trim_end_matches('/').to_string();
    let token = sandbox.graph_token.expose().to_string();
    let get = |url: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            assert!(r.status().is_success());
            r.json::<Value>().await.unwrap()
        }
    };
    let sps = get(format!(
        "{base}/servicePrincipals?$filter=displayName eq 'Orchidea'"
    ))
    .await;
    let sp = sps["value"][0]["id"].as_str().unwrap().to_string();
    let jobs = get(format!(
        "{base}/servicePrincipals/{sp}/synchronization/jobs"
    ))
    .await;
    let job = jobs["value"][0]["id"].as_str().unwrap().to_string();
    let url = format!("{base}/servicePrincipals/{sp}/synchronization/jobs/{job}/schema");
    let mut schema = get(url.clone()).await;
    let mut changed = 0;
    for rule in schema["synchronizationRules"].as_array_mut().unwrap() {
        for mapping in rule["objectMappings"].as_array_mut().unwrap() {
            for attr in mapping["attributeMappings"].as_array_mut().unwrap() {
                if attr["targetAttributeName"] == "userName" {
                    attr["source"]["name"] = "userPrincipalName".into();
                    attr["source"]["expression"] = "[userPrincipalName]".into();
                    changed += 1;
                }
            }
        }
    }
    assert!(changed > 0, "no userName mapping in {schema}");
    let put = http
        .put(url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(schema.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 204);
}

/// The same change while nothing else runs: the sandbox is started on
/// the state file, changed, and saved.
pub fn another_admin_changes_user_name(state: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sandbox = Sandbox::start(SandboxOptions {
            state_file: Some(state.to_path_buf()),
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        change_user_name(&sandbox).await;
        sandbox.shutdown().await;
    });
}
