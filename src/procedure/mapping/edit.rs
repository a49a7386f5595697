//! The edits `plan` makes, one attribute or object mapping at a time,
//! field by field so keys the wizard does not know survive the PUT.

use serde_json::{Map, Value, json};

use super::{COALESCE, Change, ChangeKind, KEPT, MappingOptions};
use crate::procedure::step::StepId;

/// Step 9: drops every attribute mapping whose target is not one of [`KEPT`]
/// (and repeats of a kept target, which Entra would reject anyway).
pub(super) fn keep_five(attrs: &mut Vec<Value>, changes: &mut Vec<Change>) {
    let mut seen: Vec<String> = Vec::new();
    attrs.retain(|a| {
        let target = target_of(a).unwrap_or("(no target)").to_string();
        let keep = KEPT.contains(&target.as_str()) && !seen.contains(&target);
        if keep {
            seen.push(target);
        } else {
            changes.push(Change {
                step: StepId::KeepFiveAttributes,
                before: Some(describe(a.get("source").unwrap_or(&Value::Null))),
                target,
                kind: ChangeKind::Remove,
                after: None,
            });
        }
        keep
    });
}

pub(super) fn set_source(
    attr: &mut Value,
    want: Value,
    target: &str,
    step: StepId,
    changes: &mut Vec<Change>,
) {
    let current = attr.get("source").cloned().unwrap_or(Value::Null);
    if same_source(&current, &want) {
        return;
    }
    changes.push(Change {
        step,
        target: target.into(),
        kind: ChangeKind::SetSource,
        before: Some(describe(&current)),
        after: Some(describe(&want)),
    });
    let Some(obj) = attr.as_object_mut() else {
        return;
    };
    match obj.get_mut("source").and_then(Value::as_object_mut) {
        // Field by field, so the source keeps its key order and unknown keys.
        Some(source) => {
            if let Value::Object(want) = want {
                for (k, v) in want {
                    source.insert(k, v);
                }
            }
        }
        None => {
            obj.insert("source".into(), want);
        }
    }
}

pub(super) fn set_matching(
    attr: &mut Value,
    want: i64,
    target: &str,
    step: StepId,
    changes: &mut Vec<Change>,
) {
    let current = attr
        .get("matchingPriority")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if current == want {
        return;
    }
    changes.push(Change {
        step,
        target: target.into(),
        kind: ChangeKind::SetMatching,
        before: Some(current.to_string()),
        after: Some(want.to_string()),
    });
    if let Some(obj) = attr.as_object_mut() {
        obj.insert("matchingPriority".into(), json!(want));
    }
}

/// Attribute sources compare by attribute name (Entra treats attribute
/// names case-insensitively); functions by expression, ignoring spaces.
pub(super) fn same_source(current: &Value, want: &Value) -> bool {
    let kind = |v: &Value| {
        text(v.get("type"))
            .unwrap_or("Attribute")
            .to_ascii_lowercase()
    };
    if current.is_null() || kind(current) != kind(want) {
        return false;
    }
    if kind(want) == "attribute" {
        return match (text(current.get("name")), text(want.get("name"))) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
    }
    let squash = |v: &Value| -> String {
        text(v.get("expression"))
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    squash(current) == squash(want)
}

/// How a source reads in the diff: the attribute name, else the expression.
pub(super) fn describe(source: &Value) -> String {
    if source.is_null() {
        return "(no source)".into();
    }
    let is_attribute = text(source.get("type")).is_none_or(|t| t.eq_ignore_ascii_case("Attribute"));
    let name = text(source.get("name"));
    let expression = text(source.get("expression"));
    match (is_attribute, name, expression) {
        (true, Some(n), _) | (_, Some(n), None) => n.to_string(),
        (_, _, Some(e)) => e.to_string(),
        _ => "(no source)".into(),
    }
}

pub(super) fn target_of(attr: &Value) -> Option<&str> {
    text(attr.get("targetAttributeName"))
}

pub(super) fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// The documented `attributeMappingSource` shape for `[name]`.
pub(super) fn attribute_source(name: &str) -> Value {
    json!({"expression": format!("[{name}]"), "name": name, "parameters": [], "type": "Attribute"})
}

pub(super) fn constant_source(value: &str) -> Value {
    json!({"expression": format!("\"{value}\""), "name": value, "parameters": [], "type": "Constant"})
}

pub(super) fn coalesce_source() -> Value {
    json!({
        "expression": COALESCE,
        "name": "Coalesce",
        "parameters": [
            {"key": "source", "value": attribute_source("mail")},
            {"key": "source", "value": attribute_source("userPrincipalName")}
        ],
        "type": "Function"
    })
}

/// Entra's defaults for a new SCIM app (Entra docs,
/// use-scim-to-provision-users-and-groups.md), used when a kept mapping is missing.
pub(super) fn default_source(target: &str) -> Value {
    match target {
        "active" => json!({
            "expression": "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")",
            "name": "Switch",
            "parameters": [
                {"key": "source", "value": attribute_source("IsSoftDeleted")},
                {"key": "key", "value": constant_source("False")},
                {"key": "value", "value": constant_source("True")},
                {"key": "key", "value": constant_source("True")},
                {"key": "value", "value": constant_source("False")}
            ],
            "type": "Function"
        }),
        "name.givenName" => attribute_source("givenName"),
        "name.familyName" => attribute_source("surname"),
        // Only the three targets that keep their source reach here.
        _ => Value::Null,
    }
}

/// A new attribute mapping with every documented field, in the docs' order.
pub(super) fn new_mapping(target: &str, source: Value, priority: i64) -> Value {
    let mut m = Map::new();
    m.insert("defaultValue".into(), Value::Null);
    m.insert("exportMissingReferences".into(), Value::Bool(false));
    m.insert("flowBehavior".into(), json!("FlowWhenChanged"));
    m.insert("flowType".into(), json!("Always"));
    m.insert("matchingPriority".into(), json!(priority));
    m.insert("source".into(), source);
    m.insert("targetAttributeName".into(), json!(target));
    Value::Object(m)
}

// --- The group mapping (issue item "Groups") -------------------------------
//
// The template leaves "Provision Microsoft Entra ID Groups" enabled, so Entra
// pushes every assigned group to `/Groups`. Orchidea's article provisions
// users only; when Orchidea's SCIM lists no `Group` resource type, the group
// object mapping is disabled in the same PUT, and the diff says why.

/// Why the group mapping is disabled, as the diff and the report show it.
pub const GROUPS_NOT_SERVED: &str =
    "Orchidea's SCIM /ResourceTypes lists no Group, so every group Entra pushed would fail";

/// Target object names of a SCIM group mapping: the template's `Group`, or
/// the core schema URN in schemas of live tenants.
pub(super) fn is_group_target(name: &str) -> bool {
    name == "Group" || name == "urn:ietf:params:scim:schemas:core:2.0:Group"
}

/// Disables each enabled `Group` → SCIM group object mapping when
/// `opts.scim_groups` is `Some(false)`; only its `enabled` field changes.
pub(super) fn disable_unserved_groups(
    schema: &mut Value,
    opts: MappingOptions,
    changes: &mut Vec<Change>,
) {
    if opts.scim_groups != Some(false) {
        return;
    }
    let rules = schema
        .get_mut("synchronizationRules")
        .and_then(Value::as_array_mut);
    for rule in rules.into_iter().flatten() {
        let mappings = rule.get_mut("objectMappings").and_then(Value::as_array_mut);
        for m in mappings.into_iter().flatten() {
            let is_group = m["sourceObjectName"] == "Group"
                && m["targetObjectName"].as_str().is_some_and(is_group_target);
            if !is_group || m.get("enabled") == Some(&Value::Bool(false)) {
                continue;
            }
            if let Some(obj) = m.as_object_mut() {
                obj.insert("enabled".into(), Value::Bool(false));
            }
            changes.push(Change {
                step: StepId::KeepFiveAttributes,
                target: text(m.get("name"))
                    .unwrap_or("(unnamed group mapping)")
                    .to_string(),
                kind: ChangeKind::DisableObjectMapping,
                before: Some("enabled".into()),
                after: Some(GROUPS_NOT_SERVED.into()),
            });
        }
    }
}
