//! The SCIM filter parser and evaluator (RFC 7644 §3.4.2.2).

use serde_json::{Value, json};

use super::FilterError;
use super::IndexKey;
use super::patch::get_ci;
use super::path::{AttrPath, check_name, split_sub, split_urn};
use super::schema;

/// A SCIM filter (RFC 7644 §3.4.2.2): comparisons, `pr`, `and`, `or`,
/// `not`, grouping, and value paths (`emails[type eq "work"].value eq "x"`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare(AttrPath, Op, Value),
    Present(AttrPath),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("A string in the filter is not closed.".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => s.push(e),
                            None => return Err("A string in the filter ends with \\.".into()),
                        },
                        Some(ch) => s.push(ch),
                    }
                }
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || "()[]\"".contains(ch) {
                        break;
                    }
                    word.push(ch);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

pub(super) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expect(&mut self, want: &Token, what: &str) -> Result<(), FilterError> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            _ => Err(format!("Expected {what} in the filter.").into()),
        }
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.keyword("not") {
            self.pos += 1;
            self.expect(&Token::Open, "( after not")?;
            let inner = self.or()?;
            self.expect(&Token::Close, ")")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(&Token::Close, ")")?;
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Filter, FilterError> {
        let Some(Token::Word(word)) = self.next() else {
            return Err("Expected an attribute name in the filter.".into());
        };
        let (ext, attr) = split_urn(&word);
        let (attr, mut sub) = split_sub(attr);
        check_name(&attr, &word)?;
        let mut filter = None;
        if self.peek() == Some(&Token::OpenBracket) {
            if sub.is_some() {
                return Err(format!("\"{word}[\" is not a valid value path.").into());
            }
            self.pos += 1;
            filter = Some(Box::new(self.or()?));
            self.expect(&Token::CloseBracket, "]")?;
            if let Some(Token::Word(w)) = self.peek()
                && let Some(s) = w.strip_prefix('.')
            {
                sub = Some(s.to_string());
                self.pos += 1;
            }
        }
        let path = AttrPath {
            ext,
            attr,
            filter,
            sub,
        };
        let op_word = match self.peek() {
            Some(Token::Word(w)) => w.clone(),
            // `emails[type eq "work"]` alone: some element matches.
            _ if path.filter.is_some() && path.sub.is_none() => return Ok(Filter::Present(path)),
            _ => return Err(format!("Expected an operator after \"{word}\".").into()),
        };
        if op_word.eq_ignore_ascii_case("pr") {
            self.pos += 1;
            return Ok(Filter::Present(path));
        }
        let Some(op) = Op::parse(&op_word) else {
            if path.filter.is_some() && path.sub.is_none() {
                return Ok(Filter::Present(path));
            }
            return Err(format!(
                "\"{op_word}\" is not a SCIM filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)."
            ).into());
        };
        self.pos += 1;
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => serde_json::from_str::<serde_json::Number>(&w)
                    .map(Value::Number)
                    .map_err(|_| {
                        format!("\"{w}\" is not a filter value; quote strings with \"\".")
                    })?,
            },
            _ => return Err(format!("Expected a value after \"{op_word}\".").into()),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

impl Filter {
    pub(super) fn parse(text: &str) -> Result<Self, FilterError> {
        let mut parser = Parser {
            tokens: tokenize(text)?,
            pos: 0,
        };
        if parser.tokens.is_empty() {
            return Err("The filter is empty.".into());
        }
        let filter = parser.or()?;
        if parser.pos < parser.tokens.len() {
            return Err(format!(
                "Unexpected text after position {} of the filter.",
                parser.pos
            )
            .into());
        }
        Ok(filter)
    }

    /// `attr eq "value"` on an attribute the index covers (anything else:
    /// `None`, and the store is scanned).
    pub(super) fn indexed_lookup(&self) -> Option<(IndexKey, String)> {
        match self {
            Filter::Compare(path, Op::Eq, Value::String(value))
                if path.ext.is_none() && path.filter.is_none() && path.sub.is_none() =>
            {
                IndexKey::for_attribute(&path.attr).map(|k| (k, value.clone()))
            }
            _ => None,
        }
    }

    pub(super) fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(f) => !f.matches(resource),
            Filter::Present(path) => values_at(resource, path).iter().any(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            }),
            Filter::Compare(path, op, want) => {
                let found = values_at(resource, path);
                if want.is_null() {
                    let missing = found.iter().all(|v| v.is_null());
                    return match op {
                        Op::Eq => missing,
                        Op::Ne => !missing,
                        _ => false,
                    };
                }
                let exact = case_exact(path);
                found.iter().any(|v| compare(v, *op, want, exact))
            }
        }
    }

    /// The element `emails[type eq "work"]` describes, for creating it.
    pub(super) fn seed(&self) -> Option<Value> {
        match self {
            Filter::Compare(path, Op::Eq, value)
                if path.filter.is_none() && path.sub.is_none() && path.ext.is_none() =>
            {
                Some(json!({ path.attr.clone(): value }))
            }
            _ => None,
        }
    }
}

/// String comparison per the attribute's published `caseExact` (RFC 7644
/// §3.4.2.2): `id` and `externalId` exactly, `userName` and the rest not.
pub(super) fn case_exact(path: &AttrPath) -> bool {
    schema::case_exact(path.ext.as_deref(), &path.attr, path.sub.as_deref())
}

/// Every value `path` reaches in `resource` (multi-valued attributes fan out).
pub(super) fn values_at<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(root) = resource.as_object() else {
        return Vec::new();
    };
    let container = match &path.ext {
        Some(urn) => match get_ci(root, urn).and_then(Value::as_object) {
            Some(c) => c,
            None => return Vec::new(),
        },
        None => root,
    };
    let Some(value) = get_ci(container, &path.attr) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match value {
        Value::Array(items) => items
            .iter()
            .filter(|i| path.filter.as_ref().is_none_or(|f| f.matches(i)))
            .collect(),
        other if path.filter.is_none() => vec![other],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| match (&path.sub, item) {
            (Some(sub), Value::Object(o)) => get_ci(o, sub),
            (Some(_), _) => None,
            // `emails eq "x"` compares the elements' `value` (RFC 7644 §3.4.2.2).
            (None, Value::Object(o)) if value.is_array() && path.filter.is_none() => {
                get_ci(o, "value")
            }
            (None, v) => Some(v),
        })
        .collect()
}

pub(super) fn compare(found: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (found, want) {
        // The common case (every lookup Entra makes): no allocation, since
        // a cycle compares every stored user for every user it provisions.
        (Value::String(f), Value::String(w)) if matches!(op, Op::Eq | Op::Ne) => {
            let same = if exact {
                f == w
            } else if f.is_ascii() && w.is_ascii() {
                f.eq_ignore_ascii_case(w)
            } else {
                f.to_lowercase() == w.to_lowercase()
            };
            same == (op == Op::Eq)
        }
        (Value::String(f), Value::String(w)) => {
            let (f, w) = if exact {
                (f.clone(), w.clone())
            } else {
                (f.to_lowercase(), w.to_lowercase())
            };
            match op {
                Op::Eq => f.partial_cmp(&w) == Some(std::cmp::Ordering::Equal),
                Op::Ne => f.partial_cmp(&w) != Some(std::cmp::Ordering::Equal),
                Op::Co => f.contains(&w),
                Op::Sw => f.starts_with(&w),
                Op::Ew => f.ends_with(&w),
                Op::Gt => f > w,
                Op::Ge => f >= w,
                Op::Lt => f < w,
                Op::Le => f <= w,
            }
        }
        (Value::Bool(f), Value::Bool(w)) => match op {
            Op::Eq => f == w,
            Op::Ne => f != w,
            _ => false,
        },
        // A "False" stored before coercion still compares as a boolean.
        (Value::String(f), Value::Bool(_)) => match f.trim().to_ascii_lowercase().as_str() {
            "true" => compare(&Value::Bool(true), op, want, exact),
            "false" => compare(&Value::Bool(false), op, want, exact),
            _ => op == Op::Ne,
        },
        (Value::Number(f), Value::Number(w)) => {
            let (Some(f), Some(w)) = (f.as_f64(), w.as_f64()) else {
                return false;
            };
            match op {
                Op::Eq => f.partial_cmp(&w) == Some(std::cmp::Ordering::Equal),
                Op::Ne => f.partial_cmp(&w) != Some(std::cmp::Ordering::Equal),
                Op::Gt => f > w,
                Op::Ge => f >= w,
                Op::Lt => f < w,
                Op::Le => f <= w,
                _ => false,
            }
        }
        _ => op == Op::Ne,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scim::test_user as user;
    use serde_json::json;

    fn m(filter: &str) -> bool {
        Filter::parse(filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(&user())
    }

    #[test]
    fn filters_entra_sends() {
        assert!(
            m("userName eq \"ada@contoso.com\""),
            "userName is case-insensitive"
        );
        assert!(m("externalId eq \"Ext-1\""));
        assert!(!m("externalId eq \"ext-1\""), "externalId is case-exact");
        assert!(m("id eq \"u1\""));
        assert!(m("emails[type eq \"work\"].value eq \"ada@contoso.com\""));
        assert!(!m("emails[type eq \"home\"].value eq \"ada@contoso.com\""));
        assert!(m("emails[type eq \"work\" and value co \"contoso\"]"));
        assert!(m("emails eq \"ada@home.example\""));
        assert!(m("name.givenName sw \"ad\" and active eq true"));
        assert!(m(
            "userName eq \"x\" or (externalId pr and not (active eq false))"
        ));
        assert!(m(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\""
        ));
        assert!(m("USERNAME EQ \"ADA@contoso.com\""));
        assert!(!m("title pr"));
        let stored_as_string = json!({"active": "False"});
        let f = Filter::parse("active eq false").unwrap();
        assert!(f.matches(&stored_as_string));
        assert!(
            !Filter::parse("active eq true")
                .unwrap()
                .matches(&stored_as_string)
        );
    }

    #[test]
    fn bad_filters_are_rejected() {
        for f in [
            "",
            "userName",
            "userName eq",
            "userName eq \"x",
            "userName foo \"x\"",
            "userName eq \"x\" extra",
            "(userName eq \"x\"",
            "userName eq unquoted",
            "a.b.c[x eq \"1\"]",
        ] {
            assert!(Filter::parse(f).is_err(), "{f:?} should not parse");
        }
    }
}
