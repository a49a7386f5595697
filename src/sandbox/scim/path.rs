//! Attribute paths (`name.givenName`, `emails[type eq "work"].value`, enterprise URN paths), shared by PATCH, filters and projection.

use super::FilterError;
use super::filter::Filter;
use super::schema;

/// `name`, `name.givenName`, `emails[type eq "work"].value`,
/// `urn:…:enterprise:2.0:User:employeeNumber`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AttrPath {
    /// The extension schema URN the attribute lives under, if any.
    pub(super) ext: Option<String>,
    pub(super) attr: String,
    pub(super) filter: Option<Box<Filter>>,
    pub(super) sub: Option<String>,
}

impl AttrPath {
    pub(super) fn parse(text: &str) -> Result<Self, FilterError> {
        let text = text.trim();
        let (ext, rest) = split_urn(text);
        if let Some(open) = rest.find('[') {
            let close = rest
                .rfind(']')
                .ok_or_else(|| format!("\"{text}\" has no closing ]."))?;
            let attr = rest[..open].trim().to_string();
            let filter = Filter::parse(&rest[open + 1..close])?;
            let after = rest[close + 1..].trim();
            let sub = match after.strip_prefix('.') {
                Some(s) if !s.is_empty() => Some(s.to_string()),
                None if after.is_empty() => None,
                _ => return Err(format!("Unexpected \"{after}\" after ] in \"{text}\".").into()),
            };
            check_name(&attr, text)?;
            return Ok(Self {
                ext,
                attr,
                filter: Some(Box::new(filter)),
                sub,
            });
        }
        let (attr, sub) = split_sub(rest);
        check_name(&attr, text)?;
        Ok(Self {
            ext,
            attr,
            filter: None,
            sub,
        })
    }
}

/// `name.givenName` → (`name`, `givenName`); a whole schema URN (which has
/// dots in `2.0`) stays one name.
pub(super) fn split_sub(rest: &str) -> (String, Option<String>) {
    if schema::is_known(rest) {
        return (rest.to_string(), None);
    }
    match rest.split_once('.') {
        Some((a, s)) => (a.to_string(), Some(s.to_string())),
        None => (rest.to_string(), None),
    }
}

pub(super) fn check_name(attr: &str, text: &str) -> Result<(), FilterError> {
    let ok = schema::is_known(attr)
        || !attr.is_empty()
            && attr
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    if ok {
        Ok(())
    } else {
        Err(format!("\"{text}\" is not an attribute path.").into())
    }
}

/// `urn:…:User:employeeNumber` → (`urn:…:User`, `employeeNumber`). The URN
/// contains dots (`2.0`), so split at the last colon before anything else.
/// A whole schema URN (RFC 7644 §3.10: a path may name the extension
/// itself) stays a top-level name: (`None`, `urn:…:enterprise:2.0:User`).
pub(super) fn split_urn(text: &str) -> (Option<String>, &str) {
    if text.len() > 4 && text[..4].eq_ignore_ascii_case("urn:") {
        let limit = text.find('[').unwrap_or(text.len());
        if schema::is_known(&text[..limit]) {
            return (None, text);
        }
        if let Some(i) = text[..limit].rfind(':') {
            return (Some(text[..i].to_string()), &text[i + 1..]);
        }
    }
    (None, text)
}
