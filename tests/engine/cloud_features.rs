//! National clouds: what Microsoft's reference leaves out of 21Vianet
//! (Test Connection, on-demand provisioning) is said plainly, and the run
//! still completes; the Global cloud treats the same refusal as a failure.
//! The sandbox plays a cloud without `validateCredentials` by answering 404.

use crate::common;

use common::*;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::{AlwaysYes, Engine};
use orchidea_wizard::platform::cloud::Cloud;
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions};

async fn without_test_connection() -> Sandbox {
    Sandbox::start(SandboxOptions {
        faults: vec![Fault::parse("graph:POST:/validateCredentials:404x*").unwrap()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

fn engine_in(sandbox: &Sandbox, cloud: Cloud) -> Engine {
    Scenario::new().cloud(cloud).engine(sandbox)
}

#[tokio::test]
async fn china_runs_every_step_and_says_test_connection_was_not_available() {
    let sandbox = without_test_connection().await;
    let engine = engine_in(&sandbox, Cloud::China);
    engine.run_all(&AlwaysYes).await.expect("the run completes");
    let list = engine.checklist().await;
    assert!(list.all_complete());
    let step5 = list.status(StepId::TestConnection);
    assert!(
        step5.detail().starts_with("Not tested:") && step5.detail().contains("21Vianet"),
        "{step5:?}"
    );
    let facts = engine.facts().await;
    assert!(facts.all_warnings().iter().any(|w| w.contains("21Vianet")));
    assert_configured(&sandbox.dump().await, "false");

    // A second run keeps the saved secret: one secret in Orchidea, not two.
    let again = engine_in(&sandbox, Cloud::China);
    again.run_all(&AlwaysYes).await.unwrap();
    assert_eq!(orchidea_secrets(&sandbox.dump().await).len(), 1);

    // On-demand provisioning is not offered there: said, nothing sent.
    let user = again.find_users("Adele").await.unwrap().remove(0);
    let e = again.provision_user(&user).await.unwrap_err().to_string();
    assert!(
        e.contains("21Vianet") && e.contains("provisioning logs"),
        "{e}"
    );
    // Nor is the provisioning logs API (provisioningobjectsummary-list.md:
    // Global and US Government only): said, and the admin center named.
    let e = again.provisioning_events(10).await.unwrap_err().to_string();
    assert!(e.contains("21Vianet") && e.contains("admin center"), "{e}");
}

#[tokio::test]
async fn in_the_global_cloud_the_same_refusal_stops_at_test_connection() {
    let sandbox = without_test_connection().await;
    let engine = engine_in(&sandbox, Cloud::Global);
    let e = engine.run_all(&AlwaysYes).await.unwrap_err();
    let list = engine.checklist().await;
    assert!(
        list.status(StepId::TestConnection).is_failed(),
        "{e}: {:?}",
        list.status(StepId::TestConnection)
    );
    assert!(!list.status(StepId::SaveCredentials).is_complete());
}
