//! Reports are written like every other file of ours (atomic, 0600) and
//! pass through the log redactor: step details, warnings and provisioning
//! results carry upstream error text that may echo a credential.

use orchidea_wizard::Secret;
use orchidea_wizard::engine::report;
use orchidea_wizard::engine::{Facts, Scope};
use orchidea_wizard::platform::logging::redact::MASK;

const LIVE: &str = "live-scim-secret-Zq81kP0w";
const PATTERN: &str = "cs-pattern-value-77Xy";
const BEARER: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.c2ln";

fn leaky_report() -> (Secret, report::Report) {
    let secret = Secret::new(LIVE);
    let mut r = report::build(&Facts::default(), Scope::Assigned, "test");
    r.warnings.push(format!(
        "Orchidea answered 401: {{\"error\":\"bad token {LIVE}\"}}"
    ));
    r.test_connection = Some(format!("Graph: invalid request client_secret={PATTERN}"));
    r.provisioning_results
        .push(format!("failure: SCIM said Authorization: Bearer {BEARER}"));
    if let Some(step) = r.steps.first_mut() {
        step.detail = format!("upstream echoed \"client_secret\": \"{PATTERN}\"");
    }
    (secret, r)
}

fn assert_clean(text: &str, what: &str) {
    for leak in [LIVE, PATTERN, BEARER] {
        assert!(!text.contains(leak), "{what} leaks {leak}:\n{text}");
    }
    assert!(text.contains(MASK), "{what} shows where text was masked");
}

#[test]
fn upstream_text_in_a_report_is_redacted_in_json_and_markdown() {
    let (_secret, r) = leaky_report();
    let dir = tempfile::tempdir().unwrap();
    let written = report::write(&r, &dir.path().join("r.json")).unwrap();
    assert_eq!(written.len(), 2);
    let json = std::fs::read_to_string(&written[0]).unwrap();
    let md = std::fs::read_to_string(&written[1]).unwrap();
    assert_clean(&json, "JSON");
    assert_clean(&md, "Markdown");
    // Still valid JSON, with the text around the masked values kept.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let tc = v["test_connection"].as_str().unwrap();
    assert!(
        tc.starts_with("Graph: invalid request client_secret="),
        "{tc}"
    );
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("Orchidea answered 401")
    );
}

#[cfg(unix)]
#[test]
fn reports_are_private_and_replaced_whole_without_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let (_secret, r) = leaky_report();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let dir_mode = |d: &std::path::Path| std::fs::metadata(d).unwrap().permissions().mode() & 0o777;
    let folder_before = dir_mode(dir.path());
    // An older report, readable by everyone and longer than the new one.
    std::fs::write(&path, "x".repeat(1 << 20)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let written = report::write(&r, &path).unwrap();
    for p in &written {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is private", p.display());
    }
    let json = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str::<serde_json::Value>(&json).expect("the old report is replaced whole");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["report.json", "report.md"],
        "no temporary file left"
    );
    // The folder is an existing one (the documents folder): left as it was.
    assert_eq!(dir_mode(dir.path()), folder_before, "its mode is untouched");
}
