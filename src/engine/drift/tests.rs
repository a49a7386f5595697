//! The pure comparison over snapshots built from the fixtures.

use serde_json::json;

use super::*;
use crate::engine::secret_list::SecretStatus;

const CONFIGURED: &str =
    include_str!("../../../tests/fixtures/graph/schema-orchidea-configured.json");

fn job(state: &str, code: &str) -> SynchronizationJob {
    serde_json::from_value(json!({
        "id": "job1",
        "schedule": { "state": state, "interval": "PT40M" },
        "status": { "code": code }
    }))
    .unwrap()
}

/// What a finished run leaves: everything holds.
fn healthy() -> Snapshot {
    Snapshot {
        app: Some("sp1".into()),
        job: Some(job("Active", "Active")),
        schema: Some(serde_json::from_str(CONFIGURED).unwrap()),
        mapping: MappingOptions::default(),
        expected_scope: Some(Scope::Assigned),
        saved_sync_all: Some("false".into()),
        expected_url: Some("https://scim.orchidea.example/scim/v2/".into()),
        saved_url: Some("https://scim.orchidea.example/scim/v2".into()),
        has_token: true,
        credentials_pass: true,
        held_secret: None,
    }
}

/// The user mapping's attribute entry for `target`.
fn attr<'a>(schema: &'a mut Value, target: &str) -> &'a mut Value {
    schema["synchronizationRules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|r| r["objectMappings"].as_array_mut().unwrap().iter_mut())
        .find(|m| m["sourceObjectName"] == "User")
        .unwrap()["attributeMappings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["targetAttributeName"] == target)
        .unwrap()
}

fn only(report: &DriftReport, id: &str) -> Vec<Finding> {
    for c in &report.checks {
        if c.id != id {
            assert!(c.ok, "{} should hold: {:?}", c.id, c.findings);
        }
    }
    let check = report.checks.iter().find(|c| c.id == id).unwrap();
    assert!(!check.ok && !report.ok);
    check.findings.clone()
}

#[test]
fn a_finished_setup_holds() {
    let report = compare(&healthy());
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checks.len(), CHECKS.len());
    assert!(report.fixing_steps().is_empty());
}

#[test]
fn user_name_from_upn_is_named_with_step_11() {
    let mut s = healthy();
    let schema = s.schema.as_mut().unwrap();
    let a = attr(schema, "userName");
    a["source"]["expression"] = json!("[userPrincipalName]");
    a["source"]["name"] = json!("userPrincipalName");
    let f = only(&compare(&s), "mappings");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].what, "userName source");
    assert!(f[0].expected.contains("mail"), "{:?}", f[0]);
    assert!(f[0].found.contains("userPrincipalName"), "{:?}", f[0]);
    assert_eq!(f[0].fix, StepId::UserNameFromMail);
    assert!(f[0].sentence().contains("step 11"), "{}", f[0].sentence());
}

#[test]
fn coalesce_holds_only_when_chosen() {
    let mut s = healthy();
    let a = attr(s.schema.as_mut().unwrap(), "userName");
    a["source"] = json!({
        "expression": "Coalesce([mail], [userPrincipalName])",
        "name": "Coalesce",
        "type": "Function",
        "parameters": [
            { "key": "source1", "value": { "expression": "[mail]", "name": "mail", "type": "Attribute", "parameters": [] } },
            { "key": "source2", "value": { "expression": "[userPrincipalName]", "name": "userPrincipalName", "type": "Attribute", "parameters": [] } }
        ]
    });
    assert_eq!(
        only(&compare(&s), "mappings")[0].fix,
        StepId::UserNameFromMail
    );
    s.mapping.user_name_source = UserNameSource::CoalesceMailUpn;
    assert!(compare(&s).ok, "{:?}", compare(&s));
}

#[test]
fn external_id_precedence_and_an_extra_attribute() {
    let mut s = healthy();
    let schema = s.schema.as_mut().unwrap();
    attr(schema, "externalId")["matchingPriority"] = json!(1);
    let mut extra = attr(schema, "name.givenName").clone();
    extra["targetAttributeName"] = json!("title");
    extra["source"]["expression"] = json!("[jobTitle]");
    extra["source"]["name"] = json!("jobTitle");
    schema["synchronizationRules"][0]["objectMappings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["sourceObjectName"] == "User")
        .unwrap()["attributeMappings"]
        .as_array_mut()
        .unwrap()
        .push(extra);
    let f = only(&compare(&s), "mappings");
    let precedence = f
        .iter()
        .find(|f| f.what == "externalId matching precedence")
        .unwrap();
    assert_eq!(
        (precedence.expected.as_str(), precedence.found.as_str()),
        ("2", "1")
    );
    assert_eq!(precedence.fix, StepId::ExternalIdFromObjectId);
    let title = f.iter().find(|f| f.what == "extra mapping title").unwrap();
    assert_eq!(title.expected, "not mapped");
    assert!(title.found.contains("jobTitle"), "{title:?}");
    assert_eq!(title.fix, StepId::KeepFiveAttributes);
}

#[test]
fn a_paused_or_quarantined_job_is_fixed_by_step_16() {
    let mut s = healthy();
    s.job = Some(job("Paused", "Paused"));
    let f = only(&compare(&s), "job");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].expected.as_str(), f[0].found.as_str()),
        ("Active", "Paused")
    );
    assert_eq!(f[0].fix, StepId::StartProvisioning);

    s.job = Some(job("Active", "Quarantine"));
    let f = only(&compare(&s), "job");
    assert_eq!(f[0].what, "job quarantine");
    assert_eq!(f[0].fix, StepId::StartProvisioning);
}

#[test]
fn no_app_or_no_job_is_named_and_nothing_else_is_guessed() {
    let mut s = healthy();
    s.job = None;
    s.schema = None;
    let f = only(&compare(&s), "job");
    assert_eq!(f[0].fix, StepId::AutomaticMode);
    s.app = None;
    assert_eq!(only(&compare(&s), "job")[0].fix, StepId::OpenEnterpriseApp);
}

#[test]
fn tenant_url_and_credentials() {
    let mut s = healthy();
    s.saved_url = Some("https://elsewhere.example/scim".into());
    let f = only(&compare(&s), "tenantUrl");
    assert_eq!(f[0].found, "https://elsewhere.example/scim");
    assert_eq!(f[0].fix, StepId::SaveCredentials);

    let mut s = healthy();
    s.credentials_pass = false;
    assert_eq!(
        only(&compare(&s), "credentials")[0].found,
        "Test Connection refused"
    );
    s.has_token = false;
    assert_eq!(only(&compare(&s), "credentials")[0].found, "none saved");
}

#[test]
fn scope_differs_from_the_last_run() {
    let mut s = healthy();
    s.saved_sync_all = Some("true".into());
    let f = only(&compare(&s), "scope");
    assert_eq!(f[0].expected, Scope::Assigned.label());
    assert_eq!(f[0].found, Scope::All.label());
    assert_eq!(f[0].fix, StepId::SaveSettings);
}

#[test]
fn json_names_are_stable_and_steps_are_numbers() {
    let mut s = healthy();
    s.job = Some(job("Paused", "Paused"));
    let v = serde_json::to_value(compare(&s)).unwrap();
    assert_eq!(v["ok"], json!(false));
    let job = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "job")
        .unwrap();
    assert_eq!(job["findings"][0]["fix"], json!("16"));
    for key in ["what", "expected", "found"] {
        assert!(job["findings"][0][key].is_string(), "{key}");
    }
}

/// The held secret, created 10 days before `now`, expiring `expires`.
fn held_expiring(expires: Option<&str>) -> SecretStatus {
    let now = crate::engine::secret_age::parse_time("2026-03-01T12:00:00Z").unwrap();
    let held = crate::engine::resume::HeldSecret {
        service_principal_id: "sp1".into(),
        graph_url: "https://graph.microsoft.com/v1.0".into(),
        scim_url: "https://scim.orchidea.example/scim/v2".into(),
        last4: "Qk9a".into(),
        id: Some("scs_1".into()),
        created_at: Some("2026-02-19T12:00:00Z".into()),
        expires_at: expires.map(str::to_string),
        saved_at: "2026-02-19T12:00:00Z".into(),
    };
    crate::engine::secret_list::from_held(&held, now)
}

#[test]
fn a_secret_expiring_within_thirty_days_is_fixed_by_rotation() {
    let mut s = healthy();
    for ok in [None, Some("2026-04-01T12:00:00Z")] {
        s.held_secret = Some(held_expiring(ok));
        assert!(compare(&s).ok, "{ok:?}");
    }
    s.held_secret = Some(held_expiring(Some("2026-03-20T12:00:00Z")));
    let report = compare(&s);
    let f = only(&report, "secretExpiry");
    assert_eq!(f[0].fix, Remedy::RotateSecret);
    assert_eq!(f[0].found, "scs_1 (…Qk9a) expires in 19 days");
    assert!(
        f[0].sentence()
            .ends_with("(fixed by rotating the SCIM secret)"),
        "{}",
        f[0].sentence()
    );
    assert!(report.needs_rotation());
    assert!(report.fixing_steps().is_empty(), "no step rotates");
    let v = serde_json::to_value(&report).unwrap();
    assert!(v.to_string().contains("\"fix\":\"rotateSecret\""), "{v}");

    s.held_secret = Some(held_expiring(Some("2026-02-27T12:00:00Z")));
    let f = only(&compare(&s), "secretExpiry");
    assert_eq!(f[0].found, "scs_1 (…Qk9a) expired 2 days ago");
    s.held_secret = Some(held_expiring(Some("someday")));
    let f = only(&compare(&s), "secretExpiry");
    assert!(f[0].found.contains("cannot be read"), "{}", f[0].found);
}

#[test]
fn a_step_remedy_compares_with_its_step_and_reads_as_before() {
    let r = Remedy::from(StepId::SaveSettings);
    assert_eq!(r, StepId::SaveSettings);
    assert_ne!(Remedy::RotateSecret, StepId::SaveSettings);
    assert_eq!(r.step(), Some(StepId::SaveSettings));
    assert!(r.describe().starts_with("step 15: "), "{}", r.describe());
}
