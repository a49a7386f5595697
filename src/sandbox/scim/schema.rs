//! The schemas the sandbox's SCIM server publishes at `/Schemas` (RFC 7643
//! §7) and the attribute characteristics its handlers obey: `caseExact` for
//! filters (RFC 7644 §3.4.2.2) and `mutability` for PATCH (RFC 7644 §3.5.2).
//!
//! The User attributes are the ones Entra's default SCIM mapping writes
//! (Entra doc `use-scim-to-provision-users-and-groups.md`, user attribute
//! table), with their RFC 7643 §4.1/§8.7.1 characteristics; the enterprise
//! extension is RFC 7643 §4.3 whole; the Group is RFC 7643 §4.2.

use std::sync::OnceLock;

use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// One attribute definition (RFC 7643 §7), `readWrite`, `default`, not unique.
fn attr(name: &str, kind: &str) -> Value {
    let mut a = json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": "",
        "required": false,
        "mutability": "readWrite",
        "returned": "default",
    });
    if kind == "string" || kind == "reference" {
        a["caseExact"] = json!(false);
        a["uniqueness"] = json!("none");
    }
    a
}

fn set(mut a: Value, key: &str, value: Value) -> Value {
    a[key] = value;
    a
}

fn multi(a: Value) -> Value {
    set(a, "multiValued", json!(true))
}

fn complex(name: &str, subs: Vec<Value>) -> Value {
    set(attr(name, "complex"), "subAttributes", Value::Array(subs))
}

/// `type` of a multi-valued attribute, with its canonical values.
fn type_sub(canonical: &[&str]) -> Value {
    set(attr("type", "string"), "canonicalValues", json!(canonical))
}

/// `value`/`type`/`primary` of emails and phone numbers (RFC 7643 §4.1.2).
fn multi_valued(name: &str, canonical: &[&str]) -> Value {
    multi(complex(
        name,
        vec![
            attr("value", "string"),
            type_sub(canonical),
            attr("primary", "boolean"),
        ],
    ))
}

/// The schema bodies, without `meta` (the handlers add it per request).
pub fn schemas() -> &'static [Value] {
    static SCHEMAS: OnceLock<Vec<Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let core = "urn:ietf:params:scim:schemas:core:2.0:Schema";
        vec![
            json!({
                "schemas": [core],
                "id": USER_SCHEMA,
                "name": "User",
                "description": "User Account",
                "attributes": [
                    set(set(attr("userName", "string"), "required", json!(true)), "uniqueness", json!("server")),
                    complex("name", vec![
                        attr("formatted", "string"),
                        attr("familyName", "string"),
                        attr("givenName", "string"),
                    ]),
                    attr("displayName", "string"),
                    attr("title", "string"),
                    attr("preferredLanguage", "string"),
                    attr("active", "boolean"),
                    multi_valued("emails", &["work", "home", "other"]),
                    multi_valued("phoneNumbers", &["work", "home", "mobile", "fax", "pager", "other"]),
                    multi(complex("addresses", vec![
                        attr("formatted", "string"),
                        attr("streetAddress", "string"),
                        attr("locality", "string"),
                        attr("region", "string"),
                        attr("postalCode", "string"),
                        attr("country", "string"),
                        type_sub(&["work", "home", "other"]),
                        attr("primary", "boolean"),
                    ])),
                    // RFC 7643 §3.1: set by the client, compared case-exactly.
                    set(attr("externalId", "string"), "caseExact", json!(true)),
                ],
            }),
            json!({
                "schemas": [core],
                "id": GROUP_SCHEMA,
                "name": "Group",
                "description": "Group",
                "attributes": [
                    // Required and unique: Entra matches groups on it
                    // (use-scim-to-provision-users-and-groups.md, /Groups).
                    set(set(attr("displayName", "string"), "required", json!(true)), "uniqueness", json!("server")),
                    multi(complex("members", vec![
                        set(attr("value", "string"), "mutability", json!("immutable")),
                        set(set(attr("$ref", "reference"), "referenceTypes", json!(["User", "Group"])), "mutability", json!("immutable")),
                        set(type_sub(&["User", "Group"]), "mutability", json!("immutable")),
                        attr("display", "string"),
                    ])),
                    set(attr("externalId", "string"), "caseExact", json!(true)),
                ],
            }),
            json!({
                "schemas": [core],
                "id": ENTERPRISE_SCHEMA,
                "name": "EnterpriseUser",
                "description": "Enterprise User",
                "attributes": [
                    attr("employeeNumber", "string"),
                    attr("costCenter", "string"),
                    attr("organization", "string"),
                    attr("division", "string"),
                    attr("department", "string"),
                    complex("manager", vec![
                        attr("value", "string"),
                        set(set(attr("$ref", "reference"), "referenceTypes", json!(["User"])), "mutability", json!("readWrite")),
                        set(attr("displayName", "string"), "mutability", json!("readOnly")),
                    ]),
                ],
            }),
        ]
    })
}

/// The definition of `attr` (and of its sub-attribute `sub`) in the schema
/// `urn`, or in any core schema when `urn` is `None`.
fn definition(urn: Option<&str>, attr: &str, sub: Option<&str>) -> Option<&'static Value> {
    let find = |list: &'static Value, name: &str| -> Option<&'static Value> {
        list.as_array()?.iter().find(|a| {
            a["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    schemas()
        .iter()
        .filter(|s| match urn {
            Some(u) => s["id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case(u)),
            None => s["id"] != ENTERPRISE_SCHEMA,
        })
        .find_map(|s| {
            let top = find(&s["attributes"], attr)?;
            match sub {
                Some(sub) => find(&top["subAttributes"], sub),
                None => Some(top),
            }
        })
}

/// Whether string comparisons on this attribute are case-exact (RFC 7643
/// §2.2 `caseExact`; `id` is case-exact, §3.1). Unknown attributes are not.
pub fn case_exact(urn: Option<&str>, attr: &str, sub: Option<&str>) -> bool {
    if urn.is_none() && sub.is_none() && attr.eq_ignore_ascii_case("id") {
        return true;
    }
    definition(urn, attr, sub).is_some_and(|d| d["caseExact"] == true)
}

/// The attribute's published `mutability`, if the server describes it.
pub fn mutability(urn: Option<&str>, attr: &str, sub: Option<&str>) -> Option<&'static str> {
    definition(urn, attr, sub)?["mutability"].as_str()
}

/// A schema URN the server serves (core or extension).
pub fn is_known(urn: &str) -> bool {
    schemas().iter().any(|s| {
        s["id"]
            .as_str()
            .is_some_and(|id| id.eq_ignore_ascii_case(urn))
    })
}

/// The canonical spelling of a known schema URN.
pub fn canonical(urn: &str) -> Option<&'static str> {
    schemas()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .find(|id| id.eq_ignore_ascii_case(urn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characteristics_follow_the_published_schemas() {
        assert!(case_exact(None, "externalId", None));
        assert!(case_exact(None, "ID", None));
        assert!(!case_exact(None, "userName", None));
        assert!(!case_exact(None, "emails", Some("value")));
        assert!(!case_exact(Some(ENTERPRISE_SCHEMA), "employeeNumber", None));
        assert!(!case_exact(None, "nickName", None), "unknown: not exact");
        assert!(is_known(
            "URN:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ));
        assert!(!is_known("urn:example:custom:2.0:User"));
        let ids: Vec<&str> = schemas().iter().filter_map(|s| s["id"].as_str()).collect();
        assert_eq!(ids, [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_SCHEMA]);
    }
}
