//! The mapping edit against the schemas Graph returns (fixtures from live
//! tenants and the templates).

use serde_json::json;

use super::*;

const DEFAULT: &str = include_str!("../../../tests/fixtures/graph/schema-scim-default.json");
const LEGACY: &str = include_str!("../../../tests/fixtures/graph/schema-customappsso-legacy.json");
const CONFIGURED: &str =
    include_str!("../../../tests/fixtures/graph/schema-orchidea-configured.json");
const PLAIN: &str = include_str!("../../../tests/fixtures/graph/schema-scim-plain-names.json");
const ENTRA_ID: &str = include_str!("../../../tests/fixtures/graph/schema-scim-entra-id.json");
const CORE_URN: &str = include_str!("../../../tests/fixtures/graph/schema-scim-core-urn.json");

fn load(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn pretty(v: &Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(v, &mut ser).unwrap();
    String::from_utf8(out).unwrap() + "\n"
}

/// The user mapping's attribute mappings as (target, source expression, matching).
fn user_attrs(schema: &Value, plan: &MappingPlan) -> Vec<(String, String, i64)> {
    let rule = schema["synchronizationRules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == plan.rule_id.as_str())
        .unwrap();
    let om = rule["objectMappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == plan.mapping_name.as_str())
        .unwrap();
    om["attributeMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["targetAttributeName"].as_str().unwrap().to_string(),
                a["source"]["expression"].as_str().unwrap().to_string(),
                a["matchingPriority"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Puts the original user attribute mappings back into `edited`: what is
/// left must be byte-identical to the input.
fn assert_only_user_mapping_changed(original: &Value, plan: &MappingPlan, ri: usize, mi: usize) {
    let mut restored = plan.edited.clone();
    restored["synchronizationRules"][ri]["objectMappings"][mi]["attributeMappings"] =
        original["synchronizationRules"][ri]["objectMappings"][mi]["attributeMappings"].clone();
    assert_eq!(&restored, original);
    assert_eq!(pretty(&restored), pretty(original));
}

fn owned(rows: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    rows.iter()
        .map(|(t, s, m)| (t.to_string(), s.to_string(), *m))
        .collect()
}

const SWITCH: &str = "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")";

#[test]
fn default_schema_gets_the_five_orchidea_mappings() {
    let schema = load(DEFAULT);
    let plan = plan(&schema, &MappingOptions::default()).unwrap();
    assert_eq!(plan.rule_id, "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8");
    assert_eq!(plan.mapping_name, "Provision Microsoft Entra ID Users");
    assert!(!plan.is_noop());
    assert_eq!(
        user_attrs(&plan.edited, &plan),
        owned(&[
            ("userName", "[mail]", 1),
            ("active", SWITCH, 0),
            ("name.givenName", "[givenName]", 0),
            ("name.familyName", "[surname]", 0),
            ("externalId", "[objectId]", 2),
        ])
    );
    // The edited userName source is the documented attribute shape.
    let user_name =
        &plan.edited["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"][0];
    assert_eq!(
        user_name["source"],
        json!({"expression": "[mail]", "name": "mail", "parameters": [], "type": "Attribute"})
    );
    assert_eq!(user_name["flowBehavior"], "FlowWhenChanged");
    assert_only_user_mapping_changed(&schema, &plan, 0, 1);
    // The group mapping, byte for byte.
    let group = |v: &Value| pretty(&v["synchronizationRules"][0]["objectMappings"][0]);
    assert_eq!(group(&plan.edited), group(&schema));
}

#[test]
fn default_schema_changes_by_step_and_diff() {
    let plan = plan(&load(DEFAULT), &MappingOptions::default()).unwrap();
    let removed: Vec<&str> = plan
        .changes_for(StepId::KeepFiveAttributes)
        .map(|c| {
            assert_eq!(c.kind, ChangeKind::Remove);
            c.target.as_str()
        })
        .collect();
    assert_eq!(removed.len(), 17);
    assert!(removed.contains(&"displayName") && removed.contains(&"name.formatted"));
    assert!(!removed.iter().any(|t| KEPT.contains(t)));
    let user_name: Vec<String> = plan
        .changes_for(StepId::UserNameFromMail)
        .map(ToString::to_string)
        .collect();
    assert_eq!(user_name, ["userName: source userPrincipalName → mail"]);
    let external: Vec<String> = plan
        .changes_for(StepId::ExternalIdFromObjectId)
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        external,
        [
            "externalId: source mailNickname → objectId",
            "externalId: matching precedence 0 → 2"
        ]
    );
    assert_eq!(plan.changes_for(StepId::EditUserName).count(), 0);

    let lines = plan.diff_lines();
    assert_eq!(lines.len(), 19);
    assert_eq!(lines[0], "- remove displayName ← displayName");
    assert!(
        lines
            .contains(&"- remove name.formatted ← Join(\" \", [givenName], [surname])".to_string())
    );
    assert_eq!(lines[17], "~ userName: source userPrincipalName → mail");
    assert_eq!(
        lines[18],
        "~ externalId: source mailNickname → objectId, matching precedence 0 → 2"
    );
}

#[test]
fn legacy_customappsso_schema_is_found_and_keeps_its_key_order() {
    let schema = load(LEGACY);
    let plan = plan(&schema, &MappingOptions::default()).unwrap();
    assert_eq!(
        plan.mapping_name,
        "Synchronize Azure Active Directory Users to customappsso"
    );
    assert_eq!(
        user_attrs(&plan.edited, &plan),
        owned(&[
            ("externalId", "[objectId]", 2),
            ("userName", "[mail]", 1),
            ("active", SWITCH, 0),
            ("name.givenName", "[givenName]", 0),
            ("name.familyName", "[surname]", 0),
        ])
    );
    assert_only_user_mapping_changed(&schema, &plan, 0, 0);
    // Edited in place: the legacy key order inside the entry survives.
    let external =
        &plan.edited["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"][0];
    let keys: Vec<&str> = external
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys[5..], ["targetAttributeName", "source"]);
    let source_keys: Vec<&str> = external["source"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(source_keys, ["expression", "name", "type", "parameters"]);
    assert_eq!(
        plan.changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Remove)
            .count(),
        17
    );
}

/// Each schema variant: the user mapping's position and its target object.
const VARIANTS: [(&str, &str, usize, &str); 5] = [
    (
        "default",
        DEFAULT,
        1,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ),
    ("plain names", PLAIN, 1, "User"),
    (
        "Microsoft Entra ID",
        ENTRA_ID,
        1,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ),
    (
        "core URN",
        CORE_URN,
        1,
        "urn:ietf:params:scim:schemas:core:2.0:User",
    ),
    ("customappsso", LEGACY, 0, "User"),
];

#[test]
fn every_scim_user_target_is_found_and_only_its_attributes_change() {
    for (name, text, mi, target) in VARIANTS {
        let schema = load(text);
        let om = &schema["synchronizationRules"][0]["objectMappings"][mi];
        assert_eq!(om["targetObjectName"], target, "{name}");
        let plan =
            plan(&schema, &MappingOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            plan.rule_id, "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8",
            "{name}"
        );
        let mut targets: Vec<String> = user_attrs(&plan.edited, &plan)
            .into_iter()
            .map(|(t, _, _)| t)
            .collect();
        targets.sort();
        let mut kept = KEPT.map(String::from).to_vec();
        kept.sort();
        assert_eq!(targets, kept, "{name}");
        assert_only_user_mapping_changed(&schema, &plan, 0, mi);
        assert_eq!(plan.diff_lines().len(), 19, "{name}");
    }
}

#[test]
fn group_mappings_are_told_from_user_mappings() {
    for (name, text, mi, _) in VARIANTS {
        let schema = load(text);
        let maps = schema["synchronizationRules"][0]["objectMappings"]
            .as_array()
            .unwrap();
        let users: Vec<usize> = (0..maps.len())
            .filter(|&i| is_user_mapping(&maps[i]))
            .collect();
        let groups: Vec<usize> = (0..maps.len())
            .filter(|&i| is_group_mapping(&maps[i]))
            .collect();
        assert_eq!(users, [mi], "{name}");
        assert_eq!(groups, [1 - mi], "{name}");
    }
    // A user mapping to something that is not a SCIM user is not Orchidea's.
    let odd = json!({"sourceObjectName": "User", "targetObjectName": "Contact"});
    assert!(!is_user_mapping(&odd) && !is_group_mapping(&odd));
}

#[test]
fn required_attributes_are_read_under_the_urn_object_name() {
    let mut schema = load(DEFAULT);
    let object = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let target = schema["directories"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["name"] == "customappsso")
        .unwrap();
    let user = target["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["name"] == object)
        .unwrap();
    for a in user["attributes"].as_array_mut().unwrap() {
        if a["name"] == "displayName" {
            a["required"] = json!(true);
        }
    }
    let err = plan(&schema, &MappingOptions::default()).unwrap_err();
    assert_eq!(
        err,
        MappingError::RequiredAttribute {
            names: vec!["displayName".into()]
        }
    );
}

#[test]
fn fixtures_round_trip_byte_for_byte() {
    // Guards the premise of every byte comparison here: `preserve_order`.
    for text in [DEFAULT, LEGACY, CONFIGURED, PLAIN, ENTRA_ID, CORE_URN] {
        assert_eq!(pretty(&load(text)), text);
    }
}

#[test]
fn configured_fixture_is_what_plan_produces() {
    let plan = plan(&load(DEFAULT), &MappingOptions::default()).unwrap();
    // `BLESS=1 cargo test … configured_fixture` rewrites the fixture after a deliberate change.
    if std::env::var_os("BLESS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/graph/schema-orchidea-configured.json"
        );
        std::fs::write(path, pretty(&plan.edited)).unwrap();
        return;
    }
    assert_eq!(plan.edited, load(CONFIGURED));
    assert_eq!(pretty(&plan.edited), CONFIGURED);
}

#[test]
fn configured_schema_is_a_noop() {
    let schema = load(CONFIGURED);
    let plan = plan(&schema, &MappingOptions::default()).unwrap();
    assert!(plan.is_noop(), "{:?}", plan.changes);
    assert!(plan.diff_lines().is_empty());
    assert_eq!(plan.edited, schema);
    assert_eq!(pretty(&plan.edited), CONFIGURED);
}

#[test]
fn mapping_lines_read_the_configured_fixture() {
    let lines = user_mapping_lines(&load(CONFIGURED)).unwrap();
    assert!(
        lines.contains(&"userName ← mail (matching 1)".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"externalId ← objectId (matching 2)".to_string()));
    assert_eq!(lines.len(), 5);
    assert!(user_mapping_lines(&json!({})).is_err());
}

#[test]
fn coalesce_option_sets_a_function_source() {
    let opts = MappingOptions {
        user_name_source: UserNameSource::CoalesceMailUpn,
        ..MappingOptions::default()
    };
    let plan = plan(&load(DEFAULT), &opts).unwrap();
    let user_name =
        &plan.edited["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"][0];
    assert_eq!(user_name["targetAttributeName"], "userName");
    assert_eq!(user_name["matchingPriority"], 1);
    assert_eq!(user_name["source"]["type"], "Function");
    assert_eq!(user_name["source"]["name"], "Coalesce");
    assert_eq!(user_name["source"]["expression"], COALESCE);
    assert_eq!(
        user_name["source"]["parameters"][1]["value"]["name"],
        "userPrincipalName"
    );
    assert!(plan.diff_lines().contains(
        &"~ userName: source userPrincipalName → Coalesce([mail], [userPrincipalName])".to_string()
    ));
    // Applied twice it is a no-op, also when Graph re-spaces the expression.
    let mut again = plan.edited.clone();
    again["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"][0]["source"]["expression"] =
        json!("Coalesce([mail],[userPrincipalName])");
    assert!(super::plan(&again, &opts).unwrap().is_noop());
    // Switching back to mail is a change again.
    assert!(
        !super::plan(&again, &MappingOptions::default())
            .unwrap()
            .is_noop()
    );
}

#[test]
fn missing_kept_mappings_are_added_with_entra_defaults() {
    let mut schema = load(CONFIGURED);
    let attrs = schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"]
        .as_array_mut()
        .unwrap();
    attrs.retain(|a| {
        a["targetAttributeName"] == "userName" || a["targetAttributeName"] == "externalId"
    });
    let plan = plan(&schema, &MappingOptions::default()).unwrap();
    assert_eq!(
        plan.diff_lines(),
        [
            format!("+ add active ← {SWITCH}"),
            "+ add name.givenName ← givenName".to_string(),
            "+ add name.familyName ← surname".to_string(),
        ]
    );
    assert!(
        plan.changes
            .iter()
            .all(|c| c.step == StepId::KeepFiveAttributes)
    );
    // Re-planning the result changes nothing, and the additions carry every field.
    let again = super::plan(&plan.edited, &MappingOptions::default()).unwrap();
    assert!(again.is_noop());
    let added =
        &plan.edited["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"][2];
    let keys: Vec<&str> = added
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "defaultValue",
            "exportMissingReferences",
            "flowBehavior",
            "flowType",
            "matchingPriority",
            "source",
            "targetAttributeName"
        ]
    );
}

#[test]
fn missing_user_name_and_external_id_are_added_under_their_steps() {
    let mut schema = load(DEFAULT);
    let attrs = schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"]
        .as_array_mut()
        .unwrap();
    attrs.retain(|a| {
        a["targetAttributeName"] != "userName" && a["targetAttributeName"] != "externalId"
    });
    let plan = plan(&schema, &MappingOptions::default()).unwrap();
    let adds: Vec<(StepId, String)> = plan
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Add)
        .map(|c| (c.step, c.to_string()))
        .collect();
    assert_eq!(
        adds,
        [
            (StepId::UserNameFromMail, "add userName ← mail".to_string()),
            (
                StepId::ExternalIdFromObjectId,
                "add externalId ← objectId".to_string()
            ),
        ]
    );
    assert!(
        super::plan(&plan.edited, &MappingOptions::default())
            .unwrap()
            .is_noop()
    );
}

#[test]
fn unknown_fields_in_an_edited_mapping_survive() {
    let mut schema = load(DEFAULT);
    let user_name =
        &mut schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"][0];
    user_name["futureField"] = json!({"x": 1});
    user_name["source"]["@odata.type"] = json!("#microsoft.graph.attributeMappingSource");
    let plan = plan(&schema, &MappingOptions::default()).unwrap();
    let edited =
        &plan.edited["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"][0];
    assert_eq!(edited["futureField"], json!({"x": 1}));
    assert_eq!(
        edited["source"]["@odata.type"],
        "#microsoft.graph.attributeMappingSource"
    );
    assert_eq!(edited["source"]["name"], "mail");
}

#[test]
fn entra_rule_is_preferred_over_other_user_to_user_rules() {
    let mut schema = load(DEFAULT);
    let mut other = schema["synchronizationRules"][0].clone();
    other["id"] = json!("other-rule");
    other["sourceDirectoryName"] = json!("customappsso");
    other["targetDirectoryName"] = json!("Azure Active Directory");
    let rules = schema["synchronizationRules"].as_array_mut().unwrap();
    rules.insert(0, other);
    let plan = plan(&schema, &MappingOptions::default()).unwrap();
    assert_eq!(plan.rule_id, "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8");
    assert_eq!(
        plan.edited["synchronizationRules"][0],
        schema["synchronizationRules"][0]
    );
}

#[test]
fn schema_without_a_user_mapping_is_an_error() {
    let mut schema = load(DEFAULT);
    let maps = schema["synchronizationRules"][0]["objectMappings"]
        .as_array_mut()
        .unwrap();
    maps.retain(|m| m["sourceObjectName"] != "User");
    let err = plan(&schema, &MappingOptions::default()).unwrap_err();
    assert_eq!(
        err,
        MappingError::NoUserMapping {
            found: vec![
                "\"Provision Microsoft Entra ID Groups\" Group → urn:ietf:params:scim:schemas:core:2.0:Group"
                    .into()
            ]
        }
    );
    let text = err.to_string();
    assert!(text.contains("Restore default mappings"), "{text}");
    assert!(
        text.contains("Provision Microsoft Entra ID Groups"),
        "{text}"
    );

    let err = plan(&json!({"id": "x"}), &MappingOptions::default()).unwrap_err();
    assert!(matches!(err, MappingError::Malformed { .. }), "{err}");
}

fn group_mapping(schema: &Value) -> &Value {
    schema["synchronizationRules"][0]["objectMappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["sourceObjectName"] == "Group")
        .unwrap()
}

#[test]
fn groups_not_served_disable_the_group_mapping_as_a_deviation() {
    let schema = load(CONFIGURED);
    let opts = MappingOptions {
        scim_groups: Some(false),
        ..MappingOptions::default()
    };
    let plan = plan(&schema, &opts).unwrap();
    assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
    let c = &plan.changes[0];
    assert_eq!(c.kind, ChangeKind::DisableObjectMapping);
    assert_eq!(c.step, StepId::KeepFiveAttributes);
    assert_eq!(
        plan.diff_lines(),
        [format!(
            "! disable \"Provision Microsoft Entra ID Groups\" (deviation: {GROUPS_NOT_SERVED})"
        )]
    );
    assert_eq!(group_mapping(&plan.edited)["enabled"], json!(false));
    // Only that field changed.
    let mut back = plan.edited.clone();
    let maps = back["synchronizationRules"][0]["objectMappings"]
        .as_array_mut()
        .unwrap();
    for m in maps.iter_mut().filter(|m| m["sourceObjectName"] == "Group") {
        m["enabled"] = json!(true);
    }
    assert_eq!(pretty(&back), pretty(&schema));
    // Applied, it stays applied: the read-back plan is a no-op.
    assert!(super::plan(&plan.edited, &opts).unwrap().is_noop());
}

#[test]
fn groups_served_or_unknown_keep_the_group_mapping() {
    let schema = load(CONFIGURED);
    for scim_groups in [None, Some(true)] {
        let opts = MappingOptions {
            scim_groups,
            ..MappingOptions::default()
        };
        let plan = plan(&schema, &opts).unwrap();
        assert!(plan.is_noop(), "{scim_groups:?}: {:?}", plan.changes);
        assert_eq!(group_mapping(&plan.edited)["enabled"], json!(true));
    }
}

#[test]
fn a_group_mapping_under_the_core_urn_is_disabled_too() {
    let mut schema = load(CONFIGURED);
    let maps = schema["synchronizationRules"][0]["objectMappings"]
        .as_array_mut()
        .unwrap();
    for m in maps.iter_mut().filter(|m| m["sourceObjectName"] == "Group") {
        m["targetObjectName"] = json!("urn:ietf:params:scim:schemas:core:2.0:Group");
    }
    let opts = MappingOptions {
        scim_groups: Some(false),
        ..MappingOptions::default()
    };
    let plan = plan(&schema, &opts).unwrap();
    assert_eq!(group_mapping(&plan.edited)["enabled"], json!(false));
}
