//! The user-mapping edit of steps 9–13 as a pure function over the raw schema, with a readable diff.
//!
//! The schema is Graph's `synchronizationSchema` as `serde_json::Value`: only the
//! user object mapping's `attributeMappings` change, and existing entries are
//! edited field by field so keys the wizard does not know survive the PUT.

use std::fmt;

use serde_json::{Map, Value, json};

use crate::procedure::step::StepId;

/// The five target attributes Orchidea keeps (step 9).
pub const KEPT: [&str; 5] = [
    "userName",
    "externalId",
    "active",
    "name.givenName",
    "name.familyName",
];

/// Names the Entra side of a rule goes by (`sourceDirectoryName`).
const ENTRA_DIRECTORIES: [&str; 2] = ["Azure Active Directory", "Microsoft Entra ID"];

/// Target object names of a SCIM user mapping: published GETs of live
/// custom-SCIM jobs name it by the enterprise extension URN, older templates
/// `User`, and the core schema URN is the same resource (RFC 7643 §8.7.1).
pub const SCIM_USER_OBJECTS: [&str; 3] = [
    "User",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];

/// Target object names of a SCIM group mapping (`Group`, or the core URN as
/// in the template of the Graph docs' provisioning tutorial).
pub const SCIM_GROUP_OBJECTS: [&str; 2] = ["Group", "urn:ietf:params:scim:schemas:core:2.0:Group"];

/// True for an object mapping from Entra users to SCIM users.
pub fn is_user_mapping(object_mapping: &Value) -> bool {
    maps(object_mapping, "User", &SCIM_USER_OBJECTS)
}

/// True for an object mapping from Entra groups to SCIM groups.
pub fn is_group_mapping(object_mapping: &Value) -> bool {
    maps(object_mapping, "Group", &SCIM_GROUP_OBJECTS)
}

fn maps(object_mapping: &Value, source: &str, targets: &[&str]) -> bool {
    let source_ok = text(object_mapping.get("sourceObjectName"))
        .is_some_and(|s| s.eq_ignore_ascii_case(source));
    let target_ok = text(object_mapping.get("targetObjectName"))
        .is_some_and(|t| targets.iter().any(|k| k.eq_ignore_ascii_case(t)));
    source_ok && target_ok
}

const USER_NAME_PRIORITY: i64 = 1;
const EXTERNAL_ID_PRIORITY: i64 = 2;
const COALESCE: &str = "Coalesce([mail], [userPrincipalName])";

/// Where `userName` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserNameSource {
    /// `mail`, as Orchidea's article says.
    #[default]
    Mail,
    /// `Coalesce([mail], [userPrincipalName])`: users without a mailbox still
    /// get a userName instead of being skipped by Entra.
    CoalesceMailUpn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MappingOptions {
    pub user_name_source: UserNameSource,
    /// Whether Orchidea's SCIM serves groups (the pre-flight's reading of
    /// `/ResourceTypes`): `Some(false)` disables the group mapping; `None`
    /// (not known) and `Some(true)` leave it as it is.
    pub scim_groups: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Remove,
    Add,
    SetSource,
    SetMatching,
    /// An object mapping switched off: a deviation from the article, with
    /// its reason in `after`.
    DisableObjectMapping,
}

/// One edit to one attribute mapping. `before`/`after` are readable source
/// expressions (or matching precedences for [`ChangeKind::SetMatching`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub step: StepId,
    pub target: String,
    pub kind: ChangeKind,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let before = self.before.as_deref().unwrap_or("(none)");
        let after = self.after.as_deref().unwrap_or("(none)");
        match self.kind {
            ChangeKind::Remove => write!(f, "remove {} ← {before}", self.target),
            ChangeKind::Add => write!(f, "add {} ← {after}", self.target),
            ChangeKind::SetSource => write!(f, "{}: source {before} → {after}", self.target),
            ChangeKind::SetMatching => {
                write!(f, "{}: matching precedence {before} → {after}", self.target)
            }
            ChangeKind::DisableObjectMapping => {
                write!(f, "disable \"{}\" (deviation: {after})", self.target)
            }
        }
    }
}

/// What [`plan`] found and the document to PUT back.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingPlan {
    /// `id` of the synchronization rule holding the user mapping.
    pub rule_id: String,
    /// The user mapping's `name` as the portal shows it.
    pub mapping_name: String,
    /// In step order; empty when the schema already matches.
    pub changes: Vec<Change>,
    /// The whole schema with the edit applied (equal to the input when no-op).
    pub edited: Value,
}

impl MappingPlan {
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn changes_for(&self, step: StepId) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.step == step)
    }

    /// One line per attribute: `- remove …`, `+ add …`, `~ target: …` (a
    /// source and a matching change to the same attribute share a line).
    pub fn diff_lines(&self) -> Vec<String> {
        let mut lines: Vec<(String, String)> = Vec::new();
        for c in &self.changes {
            match c.kind {
                ChangeKind::Remove => lines.push((String::new(), format!("- {c}"))),
                ChangeKind::Add => lines.push((String::new(), format!("+ {c}"))),
                ChangeKind::DisableObjectMapping => lines.push((String::new(), format!("! {c}"))),
                ChangeKind::SetSource | ChangeKind::SetMatching => {
                    let text = c.to_string();
                    let detail = text
                        .strip_prefix(&format!("{}: ", c.target))
                        .unwrap_or(&text)
                        .to_string();
                    match lines.iter_mut().find(|(t, _)| *t == c.target) {
                        Some((_, line)) => {
                            line.push_str(", ");
                            line.push_str(&detail);
                        }
                        None => lines.push((c.target.clone(), format!("~ {}: {detail}", c.target))),
                    }
                }
            }
        }
        lines.into_iter().map(|(_, l)| l).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error(
        "The provisioning job has no mapping from Entra users to SCIM users{}. In the Entra admin center open the app's Provisioning → Mappings, choose \"Restore default mappings\", save, and run the wizard again.",
        found_list(.found)
    )]
    NoUserMapping { found: Vec<String> },
    #[error(
        "The provisioning schema Graph returned is not in the documented shape ({what}). Restore the default mappings in the app's Provisioning → Mappings, then run the wizard again."
    )]
    Malformed { what: String },
    #[error(
        "The app's target schema marks {} as required, so Entra will not save the mappings without it; Orchidea needs only userName, externalId, active, name.givenName and name.familyName. In the Entra admin center open Provisioning → Mappings → Provision Microsoft Entra ID Users → Show advanced options → Edit attribute list, clear \"Required\" for {0}, save, and run the wizard again. Nothing was changed.",
        .names.join(", ")
    )]
    RequiredAttribute { names: Vec<String> },
}

fn found_list(found: &[String]) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!(" (it has: {})", found.join("; "))
    }
}

/// Computes Orchidea's edit of the user mapping: keep only [`KEPT`],
/// `userName` ← mail (matching 1), `externalId` ← objectId (matching 2);
/// `active` and the name parts keep their source (added with Entra's
/// default when missing). Everything else in `schema` is left as it is.
pub fn plan(schema: &Value, opts: &MappingOptions) -> Result<MappingPlan, MappingError> {
    let (ri, mi) = locate_user_mapping(schema)?;
    let rule = &schema["synchronizationRules"][ri];
    let rule_id = text(rule.get("id")).unwrap_or_default().to_string();
    let mapping_name = text(rule["objectMappings"][mi].get("name"))
        .unwrap_or("(unnamed user mapping)")
        .to_string();

    let mut edited = schema.clone();
    let attrs = edited["synchronizationRules"][ri]["objectMappings"][mi]
        .get_mut("attributeMappings")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| MappingError::Malformed {
            what: format!("\"{mapping_name}\" has no attributeMappings list"),
        })?;

    let mut changes = Vec::new();
    keep_five(attrs, &mut changes);
    // Graph refuses a schema that leaves a required target attribute
    // unmapped: say so before writing anything.
    let required = required_targets(schema, ri, mi);
    let blocked: Vec<String> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Remove && required.contains(&c.target))
        .map(|c| c.target.clone())
        .collect();
    if !blocked.is_empty() {
        return Err(MappingError::RequiredAttribute { names: blocked });
    }
    let user_name = match opts.user_name_source {
        UserNameSource::Mail => attribute_source("mail"),
        UserNameSource::CoalesceMailUpn => coalesce_source(),
    };
    let targets = [
        (
            "userName",
            StepId::UserNameFromMail,
            Some((user_name, USER_NAME_PRIORITY)),
        ),
        (
            "externalId",
            StepId::ExternalIdFromObjectId,
            Some((attribute_source("objectId"), EXTERNAL_ID_PRIORITY)),
        ),
        ("active", StepId::KeepFiveAttributes, None),
        ("name.givenName", StepId::KeepFiveAttributes, None),
        ("name.familyName", StepId::KeepFiveAttributes, None),
    ];
    for (target, step, want) in targets {
        let existing = attrs.iter_mut().find(|a| target_of(a) == Some(target));
        match (existing, want) {
            (Some(attr), Some((source, priority))) => {
                set_source(attr, source, target, step, &mut changes);
                set_matching(attr, priority, target, step, &mut changes);
            }
            (Some(_), None) => {}
            (None, want) => {
                let (source, priority) = want.unwrap_or_else(|| (default_source(target), 0));
                changes.push(Change {
                    step,
                    target: target.into(),
                    kind: ChangeKind::Add,
                    before: None,
                    after: Some(describe(&source)),
                });
                attrs.push(new_mapping(target, source, priority));
            }
        }
    }
    disable_unserved_groups(&mut edited, opts, &mut changes);
    // Stable: removals first, then each step's edits in the article's order.
    changes.sort_by_key(|c| c.step.index());
    Ok(MappingPlan {
        rule_id,
        mapping_name,
        changes,
        edited,
    })
}

/// Attributes the target directory marks `required` for the mapping's
/// target object, under that object's own name
/// (`synchronization-attributedefinition.md`, `…objectdefinition.md`).
fn required_targets(schema: &Value, ri: usize, mi: usize) -> Vec<String> {
    let rule = &schema["synchronizationRules"][ri];
    let directory = text(rule.get("targetDirectoryName")).unwrap_or_default();
    let object = text(rule["objectMappings"][mi].get("targetObjectName")).unwrap_or_default();
    schema["directories"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| text(d.get("name")).is_some_and(|n| n.eq_ignore_ascii_case(directory)))
        .flat_map(|d| d["objects"].as_array().into_iter().flatten())
        .filter(|o| text(o.get("name")).is_some_and(|n| n.eq_ignore_ascii_case(object)))
        .flat_map(|o| o["attributes"].as_array().into_iter().flatten())
        .filter(|a| a.get("required") == Some(&Value::Bool(true)))
        .filter_map(|a| text(a.get("name")).map(str::to_string))
        .collect()
}

/// The user mapping as a readable list, `target ← source (matching N)`,
/// for the report's before/after view.
pub fn user_mapping_lines(schema: &Value) -> Result<Vec<String>, MappingError> {
    let (ri, mi) = locate_user_mapping(schema)?;
    let attrs = schema["synchronizationRules"][ri]["objectMappings"][mi]["attributeMappings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(attrs
        .iter()
        .map(|a| {
            let target = target_of(a).unwrap_or("?");
            let source = describe(a.get("source").unwrap_or(&Value::Null));
            match a.get("matchingPriority").and_then(Value::as_i64) {
                Some(p) if p > 0 => format!("{target} ← {source} (matching {p})"),
                _ => format!("{target} ← {source}"),
            }
        })
        .collect())
}

/// The rule and object-mapping indices of the user mapping, found by its
/// source and target objects (names differ between tenants).
fn locate_user_mapping(schema: &Value) -> Result<(usize, usize), MappingError> {
    let rules = schema
        .get("synchronizationRules")
        .and_then(Value::as_array)
        .ok_or_else(|| MappingError::Malformed {
            what: "no synchronizationRules list".into(),
        })?;
    let mut best: Option<((bool, bool), usize, usize)> = None;
    let mut found = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        let from_entra = text(rule.get("sourceDirectoryName"))
            .is_some_and(|d| ENTRA_DIRECTORIES.iter().any(|e| e.eq_ignore_ascii_case(d)));
        let mappings = rule.get("objectMappings").and_then(Value::as_array);
        for (mi, om) in mappings.into_iter().flatten().enumerate() {
            let source = text(om.get("sourceObjectName")).unwrap_or("?");
            let target = text(om.get("targetObjectName")).unwrap_or("?");
            found.push(format!(
                "\"{}\" {source} → {target}",
                text(om.get("name")).unwrap_or("(unnamed)")
            ));
            if !is_user_mapping(om) {
                continue;
            }
            // Prefer a rule from Entra, then an enabled mapping; first wins ties.
            let rank = (from_entra, om.get("enabled") != Some(&Value::Bool(false)));
            if best.is_none_or(|(r, _, _)| rank > r) {
                best = Some((rank, ri, mi));
            }
        }
    }
    best.map(|(_, ri, mi)| (ri, mi))
        .ok_or(MappingError::NoUserMapping { found })
}

/// Step 9: drops every attribute mapping whose target is not one of [`KEPT`]
/// (and repeats of a kept target, which Entra would reject anyway).
fn keep_five(attrs: &mut Vec<Value>, changes: &mut Vec<Change>) {
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

fn set_source(
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

fn set_matching(
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
fn same_source(current: &Value, want: &Value) -> bool {
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
fn describe(source: &Value) -> String {
    if source.is_null() {
        return "(no source)".into();
    }
    let is_attribute = text(source.get("type")).is_none_or(|t| t.eq_ignore_ascii_case("Attribute"));
    let name = text(source.get("name"));
    let expression = text(source.get("expression"));
    match (is_attribute, name, expression) {
        (true, Some(n), _) => n.to_string(),
        (_, _, Some(e)) => e.to_string(),
        (_, Some(n), None) => n.to_string(),
        _ => "(no source)".into(),
    }
}

fn target_of(attr: &Value) -> Option<&str> {
    text(attr.get("targetAttributeName"))
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// The documented `attributeMappingSource` shape for `[name]`.
fn attribute_source(name: &str) -> Value {
    json!({"expression": format!("[{name}]"), "name": name, "parameters": [], "type": "Attribute"})
}

fn constant_source(value: &str) -> Value {
    json!({"expression": format!("\"{value}\""), "name": value, "parameters": [], "type": "Constant"})
}

fn coalesce_source() -> Value {
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
fn default_source(target: &str) -> Value {
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
fn new_mapping(target: &str, source: Value, priority: i64) -> Value {
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
fn is_group_target(name: &str) -> bool {
    name == "Group" || name == "urn:ietf:params:scim:schemas:core:2.0:Group"
}

/// Disables each enabled `Group` → SCIM group object mapping when
/// `opts.scim_groups` is `Some(false)`; only its `enabled` field changes.
fn disable_unserved_groups(schema: &mut Value, opts: &MappingOptions, changes: &mut Vec<Change>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../tests/fixtures/graph/schema-scim-default.json");
    const LEGACY: &str = include_str!("../../tests/fixtures/graph/schema-customappsso-legacy.json");
    const CONFIGURED: &str =
        include_str!("../../tests/fixtures/graph/schema-orchidea-configured.json");
    const PLAIN: &str = include_str!("../../tests/fixtures/graph/schema-scim-plain-names.json");
    const ENTRA_ID: &str = include_str!("../../tests/fixtures/graph/schema-scim-entra-id.json");
    const CORE_URN: &str = include_str!("../../tests/fixtures/graph/schema-scim-core-urn.json");

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
    fn assert_only_user_mapping_changed(
        original: &Value,
        plan: &MappingPlan,
        ri: usize,
        mi: usize,
    ) {
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
        assert!(lines.contains(
            &"- remove name.formatted ← Join(\" \", [givenName], [surname])".to_string()
        ));
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
        assert!(
            plan.diff_lines().contains(
                &"~ userName: source userPrincipalName → Coalesce([mail], [userPrincipalName])"
                    .to_string()
            )
        );
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
}
