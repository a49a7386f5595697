//! The user-mapping edit of steps 9–13 as a pure function over the raw schema, with a readable diff.
//!
//! The schema is Graph's `synchronizationSchema` as `serde_json::Value`: only the
//! user object mapping's `attributeMappings` change, and existing entries are
//! edited field by field so keys the wizard does not know survive the PUT.

use std::fmt;

use serde_json::Value;

use crate::procedure::step::StepId;

mod edit;
#[cfg(test)]
mod tests;

pub use edit::GROUPS_NOT_SERVED;
use edit::{
    attribute_source, coalesce_source, default_source, describe, disable_unserved_groups,
    keep_five, new_mapping, set_matching, set_source, target_of, text,
};

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
    disable_unserved_groups(&mut edited, *opts, &mut changes);
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
