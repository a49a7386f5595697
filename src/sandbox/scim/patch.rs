//! PATCH operations (RFC 7644 §3.5.2), with Entra's capitalised ops, string booleans and path-less operations.

use serde_json::{Map, Value, json};

use super::ScimError;
use super::path::AttrPath;
use super::schema;

pub(super) fn apply_operation(
    resource: &mut Map<String, Value>,
    op: &Value,
) -> Result<(), ScimError> {
    let name = op
        .as_object()
        .and_then(|o| get_ci(o, "op"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let path = op
        .as_object()
        .and_then(|o| get_ci(o, "path"))
        .and_then(Value::as_str);
    let value = op.as_object().and_then(|o| get_ci(o, "value")).cloned();
    let parse = |text: &str| -> Result<AttrPath, ScimError> {
        let path = AttrPath::parse(text).map_err(|e| ScimError::bad("invalidPath", e))?;
        check_writable(&path)?;
        Ok(path)
    };
    match (name.as_str(), path) {
        ("add" | "replace", Some(path)) => {
            let path = parse(path)?;
            let value = value
                .ok_or_else(|| ScimError::bad("invalidValue", "add/replace needs a value."))?;
            set_path(resource, &path, value, name == "add")
        }
        ("add" | "replace", None) => {
            let Some(Value::Object(values)) = value else {
                return Err(ScimError::bad(
                    "invalidValue",
                    "Without a path, the value must be an object.",
                ));
            };
            for (key, v) in values {
                match v {
                    // {"urn:…:User": {"employeeNumber": …}}: merge into the extension.
                    Value::Object(inner) if is_schema_urn(&key) => {
                        let target = object_entry(resource, &key);
                        for (k, iv) in inner {
                            let k = key_ci(target, &k);
                            target.insert(k, iv);
                        }
                    }
                    v => {
                        let path = parse(&key)?;
                        set_path(resource, &path, v, name == "add")?;
                    }
                }
            }
            Ok(())
        }
        ("remove", Some(path)) => {
            let path = parse(path)?;
            remove_path(resource, &path, value.as_ref())
        }
        ("remove", None) => Err(ScimError::bad("noTarget", "remove needs a path.")),
        (other, _) => Err(ScimError::bad(
            "invalidSyntax",
            format!("Unknown PATCH op \"{other}\"; use add, replace or remove."),
        )),
    }
}

/// RFC 7644 §3.5.2: an operation must suit the attribute's mutability
/// (`id`, `meta` and readOnly sub-attributes are the server's: 400
/// mutability), and a path into an extension the server does not serve
/// targets nothing (400 invalidPath).
pub(super) fn check_writable(path: &AttrPath) -> Result<(), ScimError> {
    let common = path.ext.is_none()
        && ["id", "meta", "schemas"]
            .iter()
            .any(|a| path.attr.eq_ignore_ascii_case(a));
    if common
        || schema::mutability(path.ext.as_deref(), &path.attr, path.sub.as_deref())
            == Some("readOnly")
    {
        return Err(ScimError::bad(
            "mutability",
            format!("{} is read-only.", path_text(path)),
        ));
    }
    if let Some(urn) = &path.ext
        && !schema::is_known(urn)
    {
        return Err(ScimError::bad(
            "invalidPath",
            format!("The server serves no schema {urn}."),
        ));
    }
    Ok(())
}

pub(super) fn path_text(path: &AttrPath) -> String {
    let mut text = match &path.ext {
        Some(urn) => format!("{urn}:{}", path.attr),
        None => path.attr.clone(),
    };
    if let Some(sub) = &path.sub {
        text.push('.');
        text.push_str(sub);
    }
    text
}

/// A whole schema URN (`urn:…:enterprise:2.0:User`), as opposed to a URN
/// path that ends in an attribute (`urn:…:2.0:User:employeeNumber`).
pub(super) fn is_schema_urn(key: &str) -> bool {
    key.len() > 4
        && key[..4].eq_ignore_ascii_case("urn:")
        && key
            .rsplit(':')
            .next()
            .is_some_and(|last| last == "User" || last == "Group")
}

/// The object that holds `path.attr`: the resource or its extension object.
pub(super) fn container<'a>(
    resource: &'a mut Map<String, Value>,
    path: &AttrPath,
) -> &'a mut Map<String, Value> {
    match &path.ext {
        Some(urn) => object_entry(resource, urn),
        None => resource,
    }
}

/// `map[key]` as an object, created (or replaced, if it was not one) on demand.
pub(super) fn object_entry<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> &'a mut Map<String, Value> {
    let key = key_ci(map, key);
    force_object(map.entry(key).or_insert_with(|| json!({})))
}

/// `value` as an object, replacing anything else with `{}`.
fn force_object(value: &mut Value) -> &mut Map<String, Value> {
    match value {
        Value::Object(object) => object,
        other => {
            *other = json!({});
            force_object(other)
        }
    }
}

/// `value` as an array, replacing anything else with `[]`.
fn force_array(value: &mut Value) -> &mut Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => {
            *other = json!([]);
            force_array(other)
        }
    }
}

pub(super) fn set_path(
    resource: &mut Map<String, Value>,
    path: &AttrPath,
    value: Value,
    add: bool,
) -> Result<(), ScimError> {
    let target = container(resource, path);
    let key = key_ci(target, &path.attr);
    match (&path.filter, &path.sub) {
        (None, None) => {
            match (target.get_mut(&key), value) {
                // add to a multi-valued attribute appends (members, emails).
                (Some(Value::Array(existing)), Value::Array(new)) if add => {
                    for item in new {
                        if !existing.contains(&item) {
                            existing.push(item);
                        }
                    }
                }
                // add/replace on a complex attribute with an object merges.
                (Some(Value::Object(existing)), Value::Object(new)) => {
                    for (k, v) in new {
                        let k = key_ci(existing, &k);
                        existing.insert(k, v);
                    }
                }
                (_, value) => {
                    target.insert(key, value);
                }
            }
            Ok(())
        }
        (None, Some(sub)) => {
            let object = object_entry(target, &key);
            let sub = key_ci(object, sub);
            object.insert(sub, value);
            Ok(())
        }
        (Some(filter), sub) => {
            let items = force_array(target.entry(key).or_insert_with(|| json!([])));
            let mut hit = false;
            for item in items.iter_mut().filter(|i| filter.matches(i)) {
                hit = true;
                set_in_item(item, sub.as_deref(), value.clone());
            }
            if !hit {
                // RFC 7644 §3.5.2.3: a replace whose filter matches nothing
                // fails with noTarget.
                if !add {
                    return Err(ScimError::bad(
                        "noTarget",
                        "No value matches the path's filter; add it instead.",
                    ));
                }
                // Entra adds emails[type eq "work"].value to users that have
                // no work email yet: create the element the filter names.
                let Some(mut item) = filter.seed() else {
                    return Err(ScimError::bad(
                        "noTarget",
                        "No value matches the path's filter.",
                    ));
                };
                set_in_item(&mut item, sub.as_deref(), value);
                items.push(item);
            }
            Ok(())
        }
    }
}

pub(super) fn set_in_item(item: &mut Value, sub: Option<&str>, value: Value) {
    match (sub, item.as_object_mut(), value) {
        (Some(sub), Some(obj), value) => {
            let k = key_ci(obj, sub);
            obj.insert(k, value);
        }
        (None, Some(obj), Value::Object(new)) => {
            for (k, v) in new {
                let k = key_ci(obj, &k);
                obj.insert(k, v);
            }
        }
        (_, _, value) => *item = value,
    }
}

pub(super) fn remove_path(
    resource: &mut Map<String, Value>,
    path: &AttrPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let target = container(resource, path);
    let key = key_ci(target, &path.attr);
    match (&path.filter, &path.sub) {
        (None, None) => match (target.get_mut(&key), value) {
            // Entra: {"op":"Remove","path":"members","value":[{"value":"id"}]}.
            (Some(Value::Array(items)), Some(Value::Array(gone))) => {
                items.retain(|i| {
                    !gone
                        .iter()
                        .any(|g| g == i || (g["value"].is_string() && g["value"] == i["value"]))
                });
            }
            _ => {
                target.remove(&key);
            }
        },
        (None, Some(sub)) => {
            if let Some(Value::Object(obj)) = target.get_mut(&key) {
                let sub = key_ci(obj, sub);
                obj.remove(&sub);
            }
        }
        (Some(filter), sub) => {
            let mut hit = false;
            if let Some(Value::Array(items)) = target.get_mut(&key) {
                hit = items.iter().any(|i| filter.matches(i));
                match sub {
                    None => items.retain(|i| !filter.matches(i)),
                    Some(sub) => {
                        for item in items.iter_mut().filter(|i| filter.matches(i)) {
                            if let Some(obj) = item.as_object_mut() {
                                let sub = key_ci(obj, sub);
                                obj.remove(&sub);
                            }
                        }
                    }
                }
            }
            // RFC 7644 §3.12 noTarget: "a filter that yields no match".
            if !hit {
                return Err(ScimError::bad(
                    "noTarget",
                    "No value matches the path's filter.",
                ));
            }
        }
    }
    Ok(())
}

/// Entra (without `aadOptscim062020`) sends `"active": "False"`.
pub(super) fn coerce_active(resource: &mut Map<String, Value>) {
    let key = key_ci(resource, "active");
    if let Some(Value::String(s)) = resource.get(&key) {
        let b = match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        if let Some(b) = b {
            resource.insert(key, Value::Bool(b));
        }
    }
}

/// SCIM attribute names are case-insensitive (RFC 7643 §2.1): the existing
/// key spelled like `name`, or `name` itself.
pub(super) fn key_ci(map: &Map<String, Value>, name: &str) -> String {
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

pub(super) fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scim::ENTERPRISE_SCHEMA;
    use crate::sandbox::scim::test_user as user;
    use serde_json::json;

    fn apply(resource: &mut Value, op: &Value) -> Result<(), ScimError> {
        apply_operation(resource.as_object_mut().unwrap(), op)
    }

    #[test]
    fn patch_like_entra() {
        let mut u = user();
        apply(
            &mut u,
            &json!({"op":"Replace","path":"active","value":"False"}),
        )
        .unwrap();
        coerce_active(u.as_object_mut().unwrap());
        assert_eq!(u["active"], false);
        apply(&mut u, &json!({"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@contoso.com"})).unwrap();
        assert_eq!(u["emails"][0]["value"], "new@contoso.com");
        assert_eq!(u["emails"][1]["value"], "ada@home.example");
        apply(
            &mut u,
            &json!({"op":"replace","path":"name.familyName","value":"Byron"}),
        )
        .unwrap();
        assert_eq!(u["name"]["familyName"], "Byron");
        assert_eq!(u["name"]["givenName"], "Ada");
        apply(
            &mut u,
            &json!({"op":"Add","path":"nickName","value":"Babs"}),
        )
        .unwrap();
        assert_eq!(u["nickName"], "Babs");
        apply(
            &mut u,
            &json!({"op":"replace","value":{
                "displayName":"Ada L",
                "name.givenName":"Augusta",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"
            }}),
        )
        .unwrap();
        assert_eq!(u["displayName"], "Ada L");
        assert_eq!(u["name"]["givenName"], "Augusta");
        assert_eq!(u[ENTERPRISE_SCHEMA]["employeeNumber"], "7");
        apply(
            &mut u,
            &json!({"op":"Add","value":{ENTERPRISE_SCHEMA: {"department":"R&D"}}}),
        )
        .unwrap();
        assert_eq!(u[ENTERPRISE_SCHEMA]["department"], "R&D");
        assert_eq!(
            u[ENTERPRISE_SCHEMA]["employeeNumber"], "7",
            "merged, not replaced"
        );
        apply(
            &mut u,
            &json!({"op":"Replace","value":{"USERNAME":"ada2@contoso.com"}}),
        )
        .unwrap();
        assert_eq!(
            u["userName"], "ada2@contoso.com",
            "existing key spelling kept"
        );
        apply(&mut u, &json!({"op":"Remove","path":"nickName"})).unwrap();
        assert!(u.get("nickName").is_none());
        assert!(apply(&mut u, &json!({"op":"Frobnicate","path":"x","value":1})).is_err());
        assert!(apply(&mut u, &json!({"op":"remove"})).is_err());
    }

    #[test]
    fn work_email_is_created_when_missing() {
        let mut u = json!({"id":"u","userName":"a"});
        let path = "emails[type eq \"work\"].value";
        let replaced = apply(&mut u, &json!({"op":"Replace","path":path,"value":"a@b.c"}));
        assert_eq!(
            replaced.unwrap_err().1,
            Some("noTarget"),
            "RFC 7644 §3.5.2.3"
        );
        apply(&mut u, &json!({"op":"Add","path":path,"value":"a@b.c"})).unwrap();
        assert_eq!(u["emails"], json!([{"type":"work","value":"a@b.c"}]));
    }

    #[test]
    fn group_members_add_and_remove() {
        let mut g = json!({"id":"g","displayName":"G","members":[]});
        apply(&mut g, &json!({"op":"Add","path":"members","value":[{"value":"u1"},{"value":"u2"},{"value":"u3"}]})).unwrap();
        apply(
            &mut g,
            &json!({"op":"Add","path":"members","value":[{"value":"u1"}]}),
        )
        .unwrap();
        assert_eq!(g["members"].as_array().unwrap().len(), 3);
        apply(
            &mut g,
            &json!({"op":"Remove","path":"members","value":[{"value":"u1"}]}),
        )
        .unwrap();
        apply(
            &mut g,
            &json!({"op":"remove","path":"members[value eq \"u2\"]"}),
        )
        .unwrap();
        assert_eq!(g["members"], json!([{"value":"u3"}]));
    }
}
