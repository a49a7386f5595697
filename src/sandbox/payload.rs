//! SCIM bodies built from Entra target attribute names (`name.givenName`, `emails[type eq "work"].value`, enterprise URN paths), as Entra builds them.
//!
//! Create: one nested resource (Entra docs `use-scim-to-provision-users-and-groups.md`,
//! "Create User" request). Update: `PatchOp` operations, by default with
//! capitalised ops and string booleans; with the `aadOptscim062020` flag,
//! lowercase ops, real booleans, `active` in its own operation with `path`,
//! and the other plain replacements grouped into one operation without
//! `path` (`application-provisioning-config-problem-scim-compatibility.md`,
//! "Requests made to disable users", "Requests to replace multiple attributes").
//! Values are typed by the target directory's attribute definitions (`type`
//! `Boolean` sends a JSON boolean), `active` by its name when undefined.
//! Groups: created without members, then members added and removed by PATCH
//! ("Group Operations" in the same Entra doc; removal per the compatibility doc).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::expression::{bool_text, parse_bool};
use super::scim::{GROUP_SCHEMA, USER_SCHEMA};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A target attribute name taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    /// The extension URN (`urn:…:enterprise:2.0:User`), if any.
    ext: Option<String>,
    attr: String,
    /// `type eq "work"` as (`type`, `work`).
    filter: Option<(String, String)>,
    sub: Option<String>,
}

impl Path {
    fn parse(target: &str) -> Path {
        let (ext, rest) = match target.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("urn:") => {
                let limit = target.find('[').unwrap_or(target.len());
                match target[..limit].rfind(':') {
                    Some(i) => (Some(target[..i].to_string()), &target[i + 1..]),
                    None => (None, target),
                }
            }
            _ => (None, target),
        };
        if let (Some(open), Some(close)) = (rest.find('['), rest.rfind(']')) {
            let inner = &rest[open + 1..close];
            let filter = inner
                .split_once(" eq ")
                .map(|(a, v)| (a.trim().to_string(), v.trim().trim_matches('"').to_string()));
            let sub = rest[close + 1..].strip_prefix('.').map(str::to_string);
            return Path {
                ext,
                attr: rest[..open].to_string(),
                filter,
                sub,
            };
        }
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a.to_string(), Some(s.to_string())),
            None => (rest.to_string(), None),
        };
        Path {
            ext,
            attr,
            filter: None,
            sub,
        }
    }
}

/// Which target attributes are booleans, from the target directory's
/// attribute definitions (`synchronization-attributedefinition.md`, `type`
/// `Boolean`) under the mapping's own target object name. An attribute the
/// schema does not define is typed by its name: only `active` is a boolean
/// (RFC 7643 §4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Types {
    /// Lowercased attribute name → whether its type is `Boolean`.
    defined: BTreeMap<String, bool>,
}

impl Types {
    /// The types of the target object of `mapping`, an object mapping of
    /// `schema` (a `synchronizationSchema`).
    pub fn of_mapping(schema: &Value, mapping: &Value) -> Types {
        let rule = schema["synchronizationRules"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| {
                r["objectMappings"]
                    .as_array()
                    .is_some_and(|ms| ms.contains(mapping))
            });
        let named = |list: &Value, key: &Value| -> Option<Value> {
            let key = key.as_str()?;
            list.as_array()?
                .iter()
                .find(|v| {
                    v["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(key))
                })
                .cloned()
        };
        let object = rule
            .and_then(|r| named(&schema["directories"], &r["targetDirectoryName"]))
            .and_then(|d| named(&d["objects"], &mapping["targetObjectName"]));
        let defined = object
            .as_ref()
            .and_then(|o| o["attributes"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|a| {
                let name = a["name"].as_str()?.to_ascii_lowercase();
                let boolean = a["type"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("Boolean"));
                Some((name, boolean))
            })
            .collect();
        Types { defined }
    }

    /// Types given per attribute, as (name, is a boolean).
    pub fn from_flags<'a>(flags: impl IntoIterator<Item = (&'a str, bool)>) -> Types {
        let defined = flags
            .into_iter()
            .map(|(name, boolean)| (name.to_ascii_lowercase(), boolean))
            .collect();
        Types { defined }
    }

    pub fn is_boolean(&self, target: &str) -> bool {
        match self.defined.get(&target.to_ascii_lowercase()) {
            Some(boolean) => *boolean,
            None => target.eq_ignore_ascii_case("active"),
        }
    }

    /// The JSON value Entra sends for a target attribute: a boolean for a
    /// `Boolean` attribute, else the string the mapping produced.
    fn typed(&self, target: &str, value: &str) -> Value {
        if self.is_boolean(target)
            && let Some(b) = parse_bool(value)
        {
            return Value::Bool(b);
        }
        Value::String(value.to_string())
    }
}

fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// The body of `POST /Users` for the non-empty target values.
pub fn create_body(values: &[(String, String)], types: &Types) -> Value {
    let mut body = Map::new();
    let mut schemas = vec![Value::from(USER_SCHEMA)];
    for (target, value) in values {
        let path = Path::parse(target);
        let container = match &path.ext {
            Some(ext) => {
                if !schemas.iter().any(|s| s == ext.as_str()) {
                    schemas.push(Value::from(ext.as_str()));
                }
                object_at(&mut body, ext)
            }
            None => &mut body,
        };
        let v = types.typed(target, value);
        match (&path.filter, &path.sub) {
            (Some((fa, fv)), sub) => {
                let list = container
                    .entry(path.attr.clone())
                    .or_insert_with(|| json!([]));
                if !list.is_array() {
                    *list = json!([]);
                }
                let mut items = list.as_array_mut().map(std::mem::take).unwrap_or_default();
                let index =
                    if let Some(i) = items.iter().position(|i| i[fa.as_str()] == fv.as_str()) {
                        i
                    } else {
                        let mut item = json!({ fa.as_str(): fv });
                        // Entra marks the work email as the primary one.
                        if path.attr.eq_ignore_ascii_case("emails") {
                            item["primary"] = json!(true);
                        }
                        items.push(item);
                        items.len() - 1
                    };
                items[index][sub.as_deref().unwrap_or("value")] = v;
                *list = Value::Array(items);
            }
            (None, Some(sub)) => {
                object_at(container, &path.attr).insert(sub.clone(), v);
            }
            (None, None) => {
                container.insert(path.attr.clone(), v);
            }
        }
    }
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Array(schemas));
    out.extend(body);
    Value::Object(out)
}

fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key.to_string()).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// The current value of a target attribute in a SCIM resource, as text
/// (booleans as `"True"`/`"False"`); `None` when absent.
pub fn read_attribute(resource: &Value, target: &str) -> Option<String> {
    let path = Path::parse(target);
    let mut map = resource.as_object()?;
    if let Some(ext) = &path.ext {
        map = get_ci(map, ext)?.as_object()?;
    }
    let field = get_ci(map, &path.attr)?;
    let leaf = match (&path.filter, &path.sub) {
        (Some((fa, fv)), sub) => {
            let item = field.as_array()?.iter().find(|i| {
                i.as_object()
                    .and_then(|o| get_ci(o, fa))
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(fv))
            })?;
            get_ci(item.as_object()?, sub.as_deref().unwrap_or("value"))?
        }
        (None, Some(sub)) => get_ci(field.as_object()?, sub)?,
        (None, None) => field,
    };
    match leaf {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(bool_text(*b)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// True when the target already holds `desired` (booleans compared as booleans).
pub fn same_value(types: &Types, target: &str, current: Option<&str>, desired: &str) -> bool {
    match current {
        None => desired.is_empty(),
        Some(c) if types.is_boolean(target) => match (parse_bool(c), parse_bool(desired)) {
            (Some(a), Some(b)) => a == b,
            _ => c == desired,
        },
        Some(c) => c == desired,
    }
}

/// One attribute to write in a PATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub target: String,
    pub value: String,
    /// The resource has no value yet: Entra says `Add`.
    pub add: bool,
}

/// A `PatchOp` body for `changes`.
pub fn patch_body(changes: &[Change], compliant: bool, types: &Types) -> Value {
    let mut ops = Vec::new();
    if compliant {
        let mut grouped = Map::new();
        for c in changes {
            // A disable is its own operation with a path, even among others.
            if c.add || c.target.contains('[') || c.target.eq_ignore_ascii_case("active") {
                ops.push(json!({
                    "op": if c.add { "add" } else { "replace" },
                    "path": c.target,
                    "value": types.typed(&c.target, &c.value),
                }));
            } else {
                grouped.insert(c.target.clone(), types.typed(&c.target, &c.value));
            }
        }
        if !grouped.is_empty() {
            ops.push(json!({ "op": "replace", "value": grouped }));
        }
    } else {
        for c in changes {
            ops.push(json!({
                "op": if c.add { "Add" } else { "Replace" },
                "path": c.target,
                "value": c.value,
            }));
        }
    }
    json!({ "schemas": [PATCH_OP], "Operations": ops })
}

/// The second schema URI of the doc's "Create Group" request example.
const ADSCIM_GROUP: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// `POST /Groups`: the group's non-member attributes; Entra creates groups
/// with an empty members list and adds members by PATCH ("Create Group").
pub fn create_group_body(values: &[(String, String)]) -> Value {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([GROUP_SCHEMA, ADSCIM_GROUP]));
    for (target, value) in values {
        if !target.eq_ignore_ascii_case("members") {
            body.insert(target.clone(), Value::String(value.clone()));
        }
    }
    body.insert("meta".into(), json!({ "resourceType": "Group" }));
    Value::Object(body)
}

/// PATCH operations on a group's `members` ("Update Group [Add Members]",
/// "[Remove Members]"). Removal without the flag names the members in
/// `value`; with it, one `members[value eq "…"]` path per member (the
/// compatibility doc). Lowercase `add` with the flag is assumed (the doc
/// shows no flagged add).
pub fn members_patch_body(add: &[String], remove: &[String], compliant: bool) -> Value {
    let mut ops = Vec::new();
    if !add.is_empty() {
        let value: Vec<Value> = add
            .iter()
            .map(|id| json!({ "$ref": null, "value": id }))
            .collect();
        ops.push(json!({
            "op": if compliant { "add" } else { "Add" },
            "path": "members",
            "value": value,
        }));
    }
    if !remove.is_empty() {
        if compliant {
            for id in remove {
                let quoted = id.replace('\\', "\\\\").replace('"', "\\\"");
                ops.push(
                    json!({ "op": "remove", "path": format!("members[value eq \"{quoted}\"]") }),
                );
            }
        } else {
            let value: Vec<Value> = remove.iter().map(|id| json!({ "value": id })).collect();
            ops.push(json!({ "op": "Remove", "path": "members", "value": value }));
        }
    }
    json!({ "schemas": [PATCH_OP], "Operations": ops })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scim::ENTERPRISE_SCHEMA;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn create_body_nests_paths_like_entra() {
        let body = create_body(
            &pairs(&[
                ("userName", "MeganB@contoso.com"),
                ("active", "True"),
                ("name.givenName", "Megan"),
                ("name.familyName", "Bowen"),
                ("emails[type eq \"work\"].value", "MeganB@contoso.com"),
                ("addresses[type eq \"work\"].locality", "Redmond"),
                ("addresses[type eq \"work\"].country", "US"),
                (&format!("{ENTERPRISE_SCHEMA}:department"), "Marketing"),
            ]),
            &Types::default(),
        );
        assert_eq!(body["schemas"], json!([USER_SCHEMA, ENTERPRISE_SCHEMA]));
        assert_eq!(body["active"], json!(true));
        assert_eq!(
            body["name"],
            json!({"givenName": "Megan", "familyName": "Bowen"})
        );
        assert_eq!(
            body["emails"],
            json!([{"type": "work", "primary": true, "value": "MeganB@contoso.com"}])
        );
        assert_eq!(
            body["addresses"],
            json!([{"type": "work", "locality": "Redmond", "country": "US"}])
        );
        assert_eq!(body[ENTERPRISE_SCHEMA]["department"], "Marketing");
    }

    /// A schema whose user mapping targets `object` in directory `SCIM`,
    /// defined with `attributes` (name, type).
    fn schema(object: &str, attributes: &[(&str, &str)]) -> Value {
        let attributes: Vec<Value> = attributes
            .iter()
            .map(|(n, t)| json!({"name": n, "type": t}))
            .collect();
        json!({
            "directories": [
                {"name": "Azure Active Directory", "objects": [{"name": "User", "attributes": []}]},
                {"name": "SCIM", "objects": [{"name": object, "attributes": attributes}]}
            ],
            "synchronizationRules": [{
                "sourceDirectoryName": "Azure Active Directory",
                "targetDirectoryName": "SCIM",
                "objectMappings": [{"sourceObjectName": "User", "targetObjectName": object}]
            }]
        })
    }

    #[test]
    fn values_are_typed_by_the_target_attribute_definitions() {
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let contractor = "urn:ietf:params:scim:schemas:extension:acme:2.0:User:isContractor";
        let s = schema(
            enterprise,
            &[("active", "Boolean"), (contractor, "Boolean")],
        );
        let types = Types::of_mapping(&s, &s["synchronizationRules"][0]["objectMappings"][0]);
        let body = create_body(&pairs(&[("active", "True"), (contractor, "False")]), &types);
        assert_eq!(body["active"], json!(true));
        assert_eq!(
            body["urn:ietf:params:scim:schemas:extension:acme:2.0:User"]["isContractor"],
            json!(false)
        );
        // Defined as a string: sent as the string the mapping produced.
        let s = schema(enterprise, &[("active", "String")]);
        let types = Types::of_mapping(&s, &s["synchronizationRules"][0]["objectMappings"][0]);
        assert_eq!(
            create_body(&pairs(&[("active", "True")]), &types)["active"],
            json!("True")
        );
        assert!(!same_value(&types, "active", Some("True"), "true"));
        // Not defined (or no such object): `active` by its name only.
        let s = schema("User", &[]);
        let types = Types::of_mapping(&s, &s["synchronizationRules"][0]["objectMappings"][0]);
        assert!(types.is_boolean("active") && !types.is_boolean(contractor));
        // The published template defines active under the enterprise URN.
        let template: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/graph/schema-scim-default.json"
        ))
        .unwrap();
        let mapping = crate::sandbox::provision::plan::user_mapping(&template).unwrap();
        let types = Types::of_mapping(&template, mapping);
        assert!(types.is_boolean("active"));
        assert!(!types.is_boolean("userName") && !types.is_boolean("displayName"));
    }

    #[test]
    fn read_attribute_follows_the_same_paths() {
        let body = create_body(
            &pairs(&[
                ("userName", "a@b.c"),
                ("active", "False"),
                ("name.givenName", "A"),
                ("emails[type eq \"work\"].value", "a@b.c"),
                (&format!("{ENTERPRISE_SCHEMA}:employeeNumber"), "42"),
            ]),
            &Types::default(),
        );
        assert_eq!(read_attribute(&body, "username").as_deref(), Some("a@b.c"));
        assert_eq!(read_attribute(&body, "active").as_deref(), Some("False"));
        assert_eq!(
            read_attribute(&body, "name.givenName").as_deref(),
            Some("A")
        );
        assert_eq!(
            read_attribute(&body, "emails[type eq \"work\"].value").as_deref(),
            Some("a@b.c")
        );
        assert_eq!(
            read_attribute(&body, &format!("{ENTERPRISE_SCHEMA}:employeeNumber")).as_deref(),
            Some("42")
        );
        assert_eq!(read_attribute(&body, "name.familyName"), None);
        assert!(same_value(
            &Types::default(),
            "active",
            Some("False"),
            "false"
        ));
        assert!(!same_value(
            &Types::default(),
            "displayName",
            Some("A"),
            "a"
        ));
        assert!(same_value(&Types::default(), "title", None, ""));
    }

    #[test]
    fn patch_bodies_follow_the_flag() {
        let changes = [
            Change {
                target: "active".into(),
                value: "False".into(),
                add: false,
            },
            Change {
                target: "name.givenName".into(),
                value: "Meg".into(),
                add: false,
            },
            Change {
                target: "emails[type eq \"work\"].value".into(),
                value: "m@x.io".into(),
                add: false,
            },
            Change {
                target: "title".into(),
                value: "Lead".into(),
                add: true,
            },
        ];
        let legacy = patch_body(&changes, false, &Types::default());
        assert_eq!(legacy["schemas"], json!([PATCH_OP]));
        assert_eq!(
            legacy["Operations"][0],
            json!({"op": "Replace", "path": "active", "value": "False"})
        );
        assert_eq!(legacy["Operations"][3]["op"], "Add");
        let compliant = patch_body(&changes, true, &Types::default());
        let ops = compliant["Operations"].as_array().unwrap();
        assert_eq!(
            ops[1],
            json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "m@x.io"})
        );
        assert_eq!(
            ops[2],
            json!({"op": "add", "path": "title", "value": "Lead"})
        );
        assert_eq!(
            ops[0],
            json!({"op": "replace", "path": "active", "value": false}),
            "the compatibility doc's flagged disable: its own operation, with path"
        );
        assert_eq!(
            ops[3],
            json!({"op": "replace", "value": {"name.givenName": "Meg"}})
        );
    }

    #[test]
    fn a_flagged_disable_alone_is_the_documented_request() {
        let off = [Change {
            target: "active".into(),
            value: "False".into(),
            add: false,
        }];
        assert_eq!(
            patch_body(&off, true, &Types::default())["Operations"],
            json!([{"op": "replace", "path": "active", "value": false}])
        );
        assert_eq!(
            patch_body(&off, false, &Types::default())["Operations"],
            json!([{"op": "Replace", "path": "active", "value": "False"}])
        );
    }

    #[test]
    fn group_bodies_follow_the_group_operations() {
        let body = create_group_body(&pairs(&[
            ("displayName", "Innovation Team"),
            ("externalId", "g-1"),
            ("members", "ignored"),
        ]));
        assert_eq!(
            body,
            json!({
                "schemas": [GROUP_SCHEMA, ADSCIM_GROUP],
                "displayName": "Innovation Team",
                "externalId": "g-1",
                "meta": {"resourceType": "Group"}
            })
        );
        let add = members_patch_body(&["u1".into()], &[], false);
        assert_eq!(
            add["Operations"],
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}]}])
        );
        let legacy = members_patch_body(&[], &["u1".into()], false);
        assert_eq!(
            legacy["Operations"],
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}])
        );
        let flagged = members_patch_body(&[], &["u1".into(), "u2".into()], true);
        assert_eq!(
            flagged["Operations"],
            json!([
                {"op": "remove", "path": "members[value eq \"u1\"]"},
                {"op": "remove", "path": "members[value eq \"u2\"]"}
            ])
        );
    }
}
