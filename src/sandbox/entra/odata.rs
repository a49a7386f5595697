//! The `OData` query options the sandbox's Graph understands: `$filter` (two forms), `$search`, `$select`, `$top`, `$count`, paging.

use serde_json::{Map, Value, json};
use url::Url;

/// The query string of a list request, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub filter: Option<Filter>,
    pub search: Option<String>,
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub count: bool,
    pub skip: usize,
    /// Everything as received, minus `$skiptoken`, for the next link.
    pub raw: Vec<(String, String)>,
}

/// The filter forms the sandbox answers (Graph's directory objects support
/// more; anything else is `Request_UnsupportedQuery`).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `startswith(prop,'text')`, case-insensitive as Graph compares.
    StartsWith(String, String),
    /// `prop eq 'text'` (or `true`/`false`).
    Eq(String, Value),
    /// `prop/any(x:x eq 'text')` on a string collection (`query-parameters.md`,
    /// lambda operators; `application.md`: "the any operator is required
    /// for filter expressions on multi-valued properties").
    Any(String, String),
}

/// An unusable query option: Graph's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
}

fn unsupported(message: impl Into<String>) -> QueryError {
    QueryError {
        code: "Request_UnsupportedQuery",
        message: message.into(),
    }
}

impl Query {
    pub fn parse(raw_query: Option<&str>) -> Result<Query, QueryError> {
        let mut q = Query::default();
        let pairs = url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes());
        for (key, value) in pairs {
            let (key, value) = (key.into_owned(), value.into_owned());
            match key.to_ascii_lowercase().as_str() {
                "$filter" => q.filter = Some(Filter::parse(&value)?),
                "$search" => q.search = Some(parse_search(&value)?),
                "$select" => {
                    q.select = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    );
                }
                "$top" => {
                    let top = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|t| (1..=999).contains(t));
                    q.top = Some(top.ok_or_else(|| QueryError {
                        code: "Request_BadRequest",
                        message: format!("Invalid page size specified: '{value}'. Must be between 1 and 999 inclusive."),
                    })?);
                }
                "$count" => q.count = value.trim().eq_ignore_ascii_case("true"),
                "$skiptoken" => {
                    q.skip = decode_skiptoken(&value).ok_or_else(|| QueryError {
                        code: "Request_BadRequest",
                        message: "The $skiptoken is not valid. Follow @odata.nextLink as given."
                            .into(),
                    })?;
                    continue;
                }
                _ => {}
            }
            q.raw.push((key, value));
        }
        Ok(q)
    }

    /// A `$select` naming a property the resource lacks is a 400, as in Graph.
    pub fn check_select(&self, known: &[&str], type_name: &str) -> Result<(), QueryError> {
        for s in self.select.iter().flatten() {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(s)) {
                return Err(QueryError {
                    code: "Request_BadRequest",
                    message: format!(
                        "Could not find a property named '{s}' on type 'microsoft.graph.{type_name}'."
                    ),
                });
            }
        }
        Ok(())
    }

    /// True when `item` passes `$filter` and `$search`. `filterable` lists the
    /// properties a filter may name.
    pub fn matches(&self, item: &Value, filterable: &[&str]) -> Result<bool, QueryError> {
        if let Some(f) = &self.filter
            && !f.matches(item, filterable)?
        {
            return Ok(false);
        }
        if let Some(text) = &self.search {
            return Ok(search_matches(item, text));
        }
        Ok(true)
    }

    /// One page of `items`, projected with `$select` (or `default_select`),
    /// with `@odata.nextLink` when more remain.
    pub fn page(
        &self,
        items: &[Value],
        default_select: &[&str],
        context: &str,
        self_url: &Url,
    ) -> Value {
        let size = self.top.unwrap_or(100);
        let total = items.len();
        let start = self.skip.min(total);
        let end = (start + size).min(total);
        let select: Vec<&str> = match &self.select {
            Some(s) => s.iter().map(String::as_str).collect(),
            None => default_select.to_vec(),
        };
        let value: Vec<Value> = items[start..end]
            .iter()
            .map(|item| project(item, &select))
            .collect();
        let mut body = Map::new();
        body.insert("@odata.context".into(), json!(context));
        if self.count {
            body.insert("@odata.count".into(), json!(total));
        }
        if end < total {
            let mut next = self_url.clone();
            {
                let mut pairs = next.query_pairs_mut();
                pairs.clear();
                for (k, v) in &self.raw {
                    pairs.append_pair(k, v);
                }
                pairs.append_pair("$skiptoken", &encode_skiptoken(end));
            }
            body.insert("@odata.nextLink".into(), json!(next.as_str()));
        }
        body.insert("value".into(), Value::Array(value));
        Value::Object(body)
    }
}

/// Keeps the selected properties (case-insensitive names), always with `id`
/// and `@odata.type`. An empty selection keeps everything.
pub fn project(item: &Value, select: &[&str]) -> Value {
    let Value::Object(map) = item else {
        return item.clone();
    };
    if select.is_empty() {
        return item.clone();
    }
    let mut out = Map::new();
    for key in ["@odata.type", "id"] {
        if let Some(v) = map.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    for s in select {
        if let Some((k, v)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(s)) {
            out.insert(k.clone(), v.clone());
        } else {
            out.insert((*s).to_string(), Value::Null);
        }
    }
    Value::Object(out)
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, QueryError> {
        let t = text.trim();
        let bad = || {
            unsupported(format!(
                "Unsupported or invalid query filter clause specified: '{text}'."
            ))
        };
        if let Some(rest) = t
            .get(..11)
            .filter(|p| p.eq_ignore_ascii_case("startswith("))
            .map(|_| &t[11..])
        {
            let inner = rest.strip_suffix(')').ok_or_else(bad)?;
            let (prop, lit) = inner.split_once(',').ok_or_else(bad)?;
            let lit = string_literal(lit.trim()).ok_or_else(bad)?;
            return Ok(Filter::StartsWith(prop.trim().to_string(), lit));
        }
        if let Some((prop, lambda)) = t.split_once("/any(") {
            let body = lambda.strip_suffix(')').ok_or_else(bad)?;
            let (var, cond) = body.split_once(':').ok_or_else(bad)?;
            let (left, lit) = cond.trim().split_once(" eq ").ok_or_else(bad)?;
            if left.trim() != var.trim() || var.trim().is_empty() {
                return Err(bad());
            }
            let lit = string_literal(lit.trim()).ok_or_else(bad)?;
            return Ok(Filter::Any(prop.trim().to_string(), lit));
        }
        let mut words = t.splitn(3, ' ');
        let (Some(prop), Some(op), Some(lit)) = (words.next(), words.next(), words.next()) else {
            return Err(bad());
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(bad());
        }
        let lit = lit.trim();
        let value = match string_literal(lit) {
            Some(s) => Value::String(s),
            None if lit == "true" || lit == "false" => Value::Bool(lit == "true"),
            None => return Err(bad()),
        };
        Ok(Filter::Eq(prop.to_string(), value))
    }

    fn matches(&self, item: &Value, filterable: &[&str]) -> Result<bool, QueryError> {
        let prop = match self {
            Filter::StartsWith(p, _) | Filter::Eq(p, _) | Filter::Any(p, _) => p,
        };
        let Some(key) = filterable.iter().find(|k| k.eq_ignore_ascii_case(prop)) else {
            return Err(unsupported(format!(
                "Unsupported or invalid query filter clause specified for property '{prop}'."
            )));
        };
        let field = &item[*key];
        Ok(match self {
            Filter::StartsWith(_, text) => field
                .as_str()
                .is_some_and(|v| v.to_lowercase().starts_with(&text.to_lowercase())),
            Filter::Eq(_, Value::String(text)) => {
                field.as_str().is_some_and(|v| v.eq_ignore_ascii_case(text))
            }
            Filter::Eq(_, other) => field == other,
            // Directory string comparisons ignore case, as `eq` above.
            Filter::Any(_, text) => field
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(text))),
        })
    }
}

/// `'text'` with `''` for a quote, as `OData` writes string literals.
fn string_literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let unescaped = inner.replace("''", "'");
    // A lone quote inside means the literal ended early.
    (unescaped.matches('\'').count() * 2 == inner.matches('\'').count()).then_some(unescaped)
}

/// `"displayName:text"` → `text`.
fn parse_search(value: &str) -> Result<String, QueryError> {
    let inner = value
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(|| {
            unsupported("The $search value must be quoted: $search=\"property:text\".")
        })?;
    let (prop, text) = inner
        .split_once(':')
        .ok_or_else(|| unsupported("The $search value must be \"property:text\"."))?;
    if !prop.trim().eq_ignore_ascii_case("displayName") {
        return Err(unsupported(format!(
            "$search is not supported on property '{}'.",
            prop.trim()
        )));
    }
    Ok(text.trim().to_string())
}

/// Graph's `$search` on displayName matches words by prefix.
fn search_matches(item: &Value, text: &str) -> bool {
    let name = item["displayName"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    let text = text.to_lowercase();
    name.split(|c: char| !c.is_alphanumeric())
        .any(|word| !word.is_empty() && word.starts_with(&text))
        || name.starts_with(&text)
}

/// An opaque-looking token for a page offset.
fn encode_skiptoken(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sandbox-page:{offset}"))
}

fn decode_skiptoken(token: &str) -> Option<usize> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("sandbox-page:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_match_case_insensitively() {
        let f = Filter::parse("startswith(displayName,'orch')").unwrap();
        let sp = json!({"displayName": "Orchidea", "appId": "A-1"});
        assert!(f.matches(&sp, &["displayName"]).unwrap());
        let f = Filter::parse("appId eq 'a-1'").unwrap();
        assert!(f.matches(&sp, &["appId"]).unwrap());
        let f = Filter::parse("startswith(displayName,'O''Brien')").unwrap();
        assert_eq!(
            f,
            Filter::StartsWith("displayName".into(), "O'Brien".into())
        );
        assert_eq!(
            Filter::parse("accountEnabled eq false").unwrap(),
            Filter::Eq("accountEnabled".into(), Value::Bool(false))
        );
        for bad in [
            "contains(displayName,'x')",
            "displayName ne 'x'",
            "startswith(displayName,x)",
            "x",
        ] {
            assert_eq!(
                Filter::parse(bad).unwrap_err().code,
                "Request_UnsupportedQuery",
                "{bad}"
            );
        }
        let f = Filter::parse("startswith(homepage,'x')").unwrap();
        assert!(f.matches(&sp, &["displayName"]).is_err());
    }

    #[test]
    fn any_matches_one_member_of_a_string_collection() {
        let app = json!({"identifierUris": ["api://x", "https://Orchidea.dev"]});
        let f = Filter::parse("identifierUris/any(x:x eq 'https://orchidea.dev')").unwrap();
        assert_eq!(
            f,
            Filter::Any("identifierUris".into(), "https://orchidea.dev".into())
        );
        assert!(f.matches(&app, &["identifierUris"]).unwrap());
        let f = Filter::parse("identifierUris/any(s:s eq 'https://other')").unwrap();
        assert!(!f.matches(&app, &["identifierUris"]).unwrap());
        assert!(!f.matches(&json!({}), &["identifierUris"]).unwrap());
        for bad in [
            "identifierUris/any(x:y eq 'a')",
            "identifierUris/any(x:x eq a)",
            "identifierUris/any(x:x ne 'a')",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pages_carry_a_next_link_that_resumes() {
        let items: Vec<Value> = (0..5)
            .map(|i| json!({"id": i.to_string(), "displayName": "x"}))
            .collect();
        let url: Url = "http://127.0.0.1:1/v1.0/users?$top=2".parse().unwrap();
        let q = Query::parse(url.query()).unwrap();
        let page = q.page(&items, &[], "ctx", &url);
        assert_eq!(page["value"].as_array().unwrap().len(), 2);
        let next: Url = page["@odata.nextLink"].as_str().unwrap().parse().unwrap();
        let q2 = Query::parse(next.query()).unwrap();
        assert_eq!(q2.skip, 2);
        assert_eq!(q2.top, Some(2));
        let last =
            Query::parse(Some(&format!("$top=2&$skiptoken={}", encode_skiptoken(4)))).unwrap();
        let page = last.page(&items, &[], "ctx", &url);
        assert_eq!(page["value"][0]["id"], "4");
        assert!(page.get("@odata.nextLink").is_none());
    }

    #[test]
    fn select_projects_and_search_matches_words() {
        let item = json!({"id": "1", "displayName": "Contoso HR Portal", "tags": []});
        assert_eq!(
            project(&item, &["displayname"]),
            json!({"id": "1", "displayName": "Contoso HR Portal"})
        );
        assert!(search_matches(&item, "hr"));
        assert!(search_matches(&item, "Port"));
        assert!(!search_matches(&item, "ortal"));
        assert_eq!(parse_search("\"displayName:Orch\"").unwrap(), "Orch");
        assert!(parse_search("Orch").is_err());
        assert!(Query::parse(Some("$top=0")).is_err());
        assert!(Query::parse(Some("$skiptoken=zzz")).is_err());
    }
}
