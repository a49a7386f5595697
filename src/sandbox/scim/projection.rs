//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9).

use serde_json::{Map, Value};

use super::param;
use super::path::AttrPath;

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): names
/// down to sub-attributes (`name.givenName`) and extension attributes
/// (`urn:…:enterprise:2.0:User:department`). Entra uses
/// `excludedAttributes=members` on groups.
pub(super) struct Projection {
    include: Vec<AttrPath>,
    exclude: Vec<AttrPath>,
}

impl Projection {
    pub(super) fn from_query(query: Option<&str>) -> Self {
        let names = |p: &str| -> Vec<AttrPath> {
            param(query, p)
                .map(|v| {
                    v.split(',')
                        .filter_map(|a| AttrPath::parse(a.trim()).ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            include: names("attributes"),
            exclude: names("excludedAttributes"),
        }
    }

    pub(super) fn apply(&self, resource: &Value) -> Value {
        let Some(obj) = resource.as_object() else {
            return resource.clone();
        };
        let mut out = Map::new();
        for (key, value) in obj {
            // `returned: always` (RFC 7643 §3.1, §7).
            if ["id", "schemas", "meta"]
                .iter()
                .any(|a| key.eq_ignore_ascii_case(a))
            {
                out.insert(key.clone(), value.clone());
                continue;
            }
            let value = if self.include.is_empty() {
                Some(value.clone())
            } else {
                pick(key, value, &self.include, true)
            };
            if let Some(v) = value.and_then(|v| pick(key, &v, &self.exclude, false)) {
                out.insert(key.clone(), v);
            }
        }
        Value::Object(out)
    }
}

/// `value` (top-level attribute `key`) reduced to the `paths` that name it
/// (`keep`), or stripped of them (`!keep`); `None` when nothing is left.
pub(super) fn pick(key: &str, value: &Value, paths: &[AttrPath], keep: bool) -> Option<Value> {
    let ci = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    // Paths into this attribute, as (attribute, sub-attribute) pairs.
    let mut hits: Vec<(Option<&str>, Option<&str>)> = Vec::new();
    for p in paths {
        match &p.ext {
            None if ci(&p.attr, key) => hits.push((None, p.sub.as_deref())),
            Some(urn) if ci(urn, key) => hits.push((Some(&p.attr), p.sub.as_deref())),
            _ => {}
        }
    }
    if hits.is_empty() {
        return if keep { None } else { Some(value.clone()) };
    }
    if hits.contains(&(None, None)) {
        return keep.then(|| value.clone());
    }
    let is_ext = hits.iter().any(|h| h.0.is_some());
    // Within an extension: its attributes are one level down.
    let select =
        |object: &Map<String, Value>, level: &dyn Fn(&str) -> bool| -> Map<String, Value> {
            object
                .iter()
                .filter(|(k, _)| level(k) == keep)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
    let reduce = |object: &Map<String, Value>| -> Map<String, Value> {
        if is_ext {
            let mut out = Map::new();
            for (k, v) in object {
                let subs: Vec<&str> = hits
                    .iter()
                    .filter(|h| h.0.is_some_and(|a| ci(a, k)))
                    .filter_map(|h| h.1)
                    .collect();
                let whole = hits
                    .iter()
                    .any(|h| h.0.is_some_and(|a| ci(a, k)) && h.1.is_none());
                let reduced = if whole || subs.is_empty() {
                    (whole == keep).then(|| v.clone())
                } else {
                    match v {
                        Value::Object(inner) => Some(Value::Object(select(inner, &|s| {
                            subs.iter().any(|x| ci(x, s))
                        }))),
                        other => Some(other.clone()),
                    }
                };
                if let Some(r) = reduced {
                    out.insert(k.clone(), r);
                }
            }
            out
        } else {
            let subs: Vec<&str> = hits.iter().filter_map(|h| h.1).collect();
            select(object, &|s| subs.iter().any(|x| ci(x, s)))
        }
    };
    let reduced = match value {
        Value::Object(o) => Value::Object(reduce(o)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::Object(o) => Value::Object(reduce(o)),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    let empty = match &reduced {
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.iter().all(|i| i.as_object().is_some_and(Map::is_empty)),
        _ => false,
    };
    (!empty).then_some(reduced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scim::GROUP_SCHEMA;
    use crate::sandbox::scim::test_user as user;
    use serde_json::json;

    #[test]
    fn projection_keeps_id_and_drops_excluded() {
        let g = json!({"schemas":[GROUP_SCHEMA],"id":"g","displayName":"G","members":[{"value":"u"}],"meta":{}});
        let p = Projection::from_query(Some("excludedAttributes=members"));
        let out = p.apply(&g);
        assert!(out.get("members").is_none());
        assert_eq!(out["displayName"], "G");
        let p = Projection::from_query(Some("attributes=userName,name.givenName"));
        let out = p.apply(&user());
        assert_eq!(out["id"], "u1");
        assert!(out.get("userName").is_some() && out.get("name").is_some());
        assert!(out.get("emails").is_none());
    }
}
