//! Entra's attribute-mapping expressions (`Switch([IsSoftDeleted], , "False", "True")`): parser and evaluator.
//!
//! Syntax (Entra docs `functions-for-customizing-application-data.md`):
//! a function call `Name(arg, arg, …)`, an attribute reference `[name]`, a
//! string literal `"text"` (a backslash escapes `"` and `\`), a bare number,
//! and an empty argument (`Switch([x], , "a", "b")`). `IIF` takes a condition
//! written `[attr]="value"`, so an argument may be `left = right`.
//!
//! Values are strings or null. Booleans are the strings `"True"`/`"False"`,
//! as the sync engine renders them (the default `active` mapping compares
//! `[IsSoftDeleted]` with `"False"`).

use std::fmt;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `[name]`: an attribute of the source object.
    Attribute(String),
    /// `"text"` or a bare number.
    Literal(String),
    /// An argument left empty: evaluates to null.
    Empty,
    /// `Name(args…)`.
    Call(String, Vec<Expr>),
    /// `left = right` (inside `IIF`): `"True"` when both sides are equal.
    Equals(Box<Expr>, Box<Expr>),
}

/// Why an expression could not be parsed or evaluated. The message names the
/// position or the function, for the provisioning log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpressionError {
    #[error(
        "The expression is not valid at character {at}: {reason}. Fix it in the attribute mapping."
    )]
    Syntax { at: usize, reason: String },
    #[error(
        "The expression calls {name}, which the sandbox does not evaluate. Use another function in the mapping."
    )]
    UnknownFunction { name: String },
    #[error("{name} takes {expected} arguments but the expression gives {got}. Fix the mapping.")]
    Arity {
        name: String,
        expected: &'static str,
        got: usize,
    },
}

impl Expr {
    /// Parses a whole expression; trailing text is an error.
    pub fn parse(text: &str) -> Result<Expr, ExpressionError> {
        let mut p = Parser {
            chars: text.chars().collect(),
            pos: 0,
        };
        let expr = p.argument()?;
        p.skip_ws();
        if p.pos < p.chars.len() {
            return Err(p.error("unexpected text after the expression"));
        }
        if expr == Expr::Empty {
            return Err(p.error("the expression is empty"));
        }
        Ok(expr)
    }

    /// Evaluates against `lookup`, which answers an attribute by name (null
    /// when the source object has no value).
    pub fn eval(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<String>, ExpressionError> {
        match self {
            Expr::Attribute(name) => Ok(lookup(name)),
            Expr::Literal(text) => Ok(Some(text.clone())),
            Expr::Empty => Ok(None),
            Expr::Equals(l, r) => Ok(Some(bool_text(l.eval(lookup)? == r.eval(lookup)?))),
            Expr::Call(name, args) => call(name, args, lookup),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Attribute(n) => write!(f, "[{n}]"),
            Expr::Literal(t) => write!(f, "\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")),
            Expr::Empty => Ok(()),
            Expr::Equals(l, r) => write!(f, "{l}={r}"),
            Expr::Call(n, args) => {
                write!(f, "{n}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// `"True"` / `"False"`, the sync engine's rendering of a boolean.
pub fn bool_text(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

/// Reads `"True"`/`"False"` (any case) as a boolean.
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn call(
    name: &str,
    args: &[Expr],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, ExpressionError> {
    let arity = |expected: &'static str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(ExpressionError::Arity {
                name: name.to_string(),
                expected,
                got: args.len(),
            })
        }
    };
    let values = || -> Result<Vec<Option<String>>, ExpressionError> {
        args.iter().map(|a| a.eval(lookup)).collect()
    };
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    // Entra's function names are case-insensitive in the portal editor.
    match name.to_ascii_lowercase().as_str() {
        "switch" => {
            arity("at least 2", args.len() >= 2)?;
            let v = values()?;
            let source = &v[0];
            let default = v[1].clone();
            for pair in v[2..].chunks(2) {
                if let [key, value] = pair
                    && key == source
                {
                    return Ok(value.clone());
                }
            }
            Ok(default)
        }
        "join" => {
            arity("at least 1", !args.is_empty())?;
            let v = values()?;
            let separator = v[0].clone().unwrap_or_default();
            // Null sources are left out rather than joined as empty text.
            let parts: Vec<String> = v[1..]
                .iter()
                .filter(|p| present(p))
                .flatten()
                .cloned()
                .collect();
            Ok(Some(parts.join(&separator)))
        }
        "coalesce" => {
            arity("at least 1", !args.is_empty())?;
            Ok(values()?.into_iter().find(|v| present(v)).flatten())
        }
        "tolower" | "toupper" => {
            arity("1 or 2", (1..=2).contains(&args.len()))?;
            let v = args[0].eval(lookup)?;
            Ok(v.map(|s| {
                if name.eq_ignore_ascii_case("tolower") {
                    s.to_lowercase()
                } else {
                    s.to_uppercase()
                }
            }))
        }
        "not" => {
            arity("1", args.len() == 1)?;
            let v = args[0].eval(lookup)?;
            Ok(v.as_deref().and_then(parse_bool).map(|b| bool_text(!b)))
        }
        "iif" => {
            arity("3", args.len() == 3)?;
            let condition = args[0].eval(lookup)?;
            let branch = if condition.as_deref().and_then(parse_bool) == Some(true) {
                &args[1]
            } else {
                &args[2]
            };
            branch.eval(lookup)
        }
        "append" => {
            arity("2", args.len() == 2)?;
            let v = values()?;
            match (&v[0], &v[1]) {
                (None, None) => Ok(None),
                (a, b) => Ok(Some(format!(
                    "{}{}",
                    a.as_deref().unwrap_or_default(),
                    b.as_deref().unwrap_or_default()
                ))),
            }
        }
        "isnull" => {
            arity("1", args.len() == 1)?;
            Ok(Some(bool_text(args[0].eval(lookup)?.is_none())))
        }
        "isnullorempty" => {
            arity("1", args.len() == 1)?;
            Ok(Some(bool_text(!present(&args[0].eval(lookup)?))))
        }
        "ispresent" => {
            arity("1", args.len() == 1)?;
            Ok(Some(bool_text(present(&args[0].eval(lookup)?))))
        }
        // The role of the user's one assignment to the app; the sandbox has
        // only the default role, which its attribute lookup answers.
        "singleapproleassignment" => {
            arity("1", args.len() == 1)?;
            args[0].eval(lookup)
        }
        _ => Err(ExpressionError::UnknownFunction {
            name: name.to_string(),
        }),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn error(&self, reason: &str) -> ExpressionError {
        ExpressionError::Syntax {
            at: self.pos + 1,
            reason: reason.to_string(),
        }
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// An argument: empty, a term, or `term = term`.
    fn argument(&mut self) -> Result<Expr, ExpressionError> {
        self.skip_ws();
        if matches!(self.peek(), None | Some(',' | ')')) {
            return Ok(Expr::Empty);
        }
        let left = self.term()?;
        self.skip_ws();
        if self.peek() == Some('=') {
            self.pos += 1;
            self.skip_ws();
            let right = self.term()?;
            return Ok(Expr::Equals(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, ExpressionError> {
        match self.peek() {
            Some('[') => self.attribute(),
            Some('"') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' => Ok(Expr::Literal(self.word())),
            Some(c) if c.is_alphabetic() || c == '_' => self.call(),
            _ => Err(self.error("expected [attribute], \"text\" or Function(…)")),
        }
    }

    fn attribute(&mut self) -> Result<Expr, ExpressionError> {
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| c != ']') {
            self.pos += 1;
        }
        if self.peek() != Some(']') {
            return Err(self.error("an attribute reference has no closing ]"));
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        self.pos += 1;
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(self.error("an attribute reference is empty"));
        }
        Ok(Expr::Attribute(name))
    }

    fn string(&mut self) -> Result<Expr, ExpressionError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("a string has no closing quote")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(Expr::Literal(out));
                }
                Some('\\') if matches!(self.chars.get(self.pos + 1), Some('"' | '\\')) => {
                    out.push(self.chars[self.pos + 1]);
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn call(&mut self) -> Result<Expr, ExpressionError> {
        let name = self.word();
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(self.error(&format!("{name} must be followed by (")));
        }
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            args.push(self.argument()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("expected , or ) in the argument list")),
            }
        }
        // `Fn()` has no arguments, not one empty one.
        if args == [Expr::Empty] {
            args.clear();
        }
        Ok(Expr::Call(name, args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Option<String> {
        match name.to_ascii_lowercase().as_str() {
            "givenname" => Some("Megan".into()),
            "surname" => Some("Bowen".into()),
            "mail" => Some("MeganB@contoso.com".into()),
            "issoftdeleted" => Some("False".into()),
            "country" => Some("USA".into()),
            "empty" => Some(String::new()),
            _ => None,
        }
    }

    fn eval(text: &str) -> Option<String> {
        Expr::parse(text).unwrap().eval(&user).unwrap()
    }

    #[test]
    fn default_active_mapping_turns_soft_delete_into_active() {
        let text = r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#;
        assert_eq!(eval(text).as_deref(), Some("True"));
        let deleted = |n: &str| (n == "IsSoftDeleted").then(|| "True".to_string());
        let e = Expr::parse(text).unwrap();
        assert_eq!(e.eval(&deleted).unwrap().as_deref(), Some("False"));
        // No key matches: the empty default is null.
        let odd = |_: &str| Some("maybe".to_string());
        assert_eq!(e.eval(&odd).unwrap(), None);
    }

    #[test]
    fn parses_empty_arguments_and_nesting() {
        let e = Expr::parse(r#"Switch([a], , "x", ToLower([b]))"#).unwrap();
        assert_eq!(
            e,
            Expr::Call(
                "Switch".into(),
                vec![
                    Expr::Attribute("a".into()),
                    Expr::Empty,
                    Expr::Literal("x".into()),
                    Expr::Call("ToLower".into(), vec![Expr::Attribute("b".into())]),
                ]
            )
        );
        assert_eq!(e.to_string(), r#"Switch([a], , "x", ToLower([b]))"#);
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            eval(r#"Join(" ", [givenName], [surname])"#).as_deref(),
            Some("Megan Bowen")
        );
        assert_eq!(
            eval(r#"Join(".", [givenName], [missing])"#).as_deref(),
            Some("Megan")
        );
        assert_eq!(
            eval("ToLower([mail])").as_deref(),
            Some("meganb@contoso.com")
        );
        assert_eq!(
            eval(r#"ToUpper([surname], "en-US")"#).as_deref(),
            Some("BOWEN")
        );
        assert_eq!(
            eval(r#"Append([givenName], "@x.io")"#).as_deref(),
            Some("Megan@x.io")
        );
        assert_eq!(
            eval(r"Coalesce([missing], [empty], [mail])").as_deref(),
            Some("MeganB@contoso.com")
        );
        assert_eq!(eval("Coalesce([missing], [empty])"), None);
        assert_eq!(
            eval(r#""a \"quoted\" \\ text""#).as_deref(),
            Some(r#"a "quoted" \ text"#)
        );
        assert_eq!(
            eval("SingleAppRoleAssignment([givenName])").as_deref(),
            Some("Megan")
        );
    }

    #[test]
    fn boolean_functions() {
        assert_eq!(eval("Not([IsSoftDeleted])").as_deref(), Some("True"));
        assert_eq!(eval("IsNull([missing])").as_deref(), Some("True"));
        assert_eq!(eval("IsNull([empty])").as_deref(), Some("False"));
        assert_eq!(eval("IsNullOrEmpty([empty])").as_deref(), Some("True"));
        assert_eq!(eval("IsPresent([mail])").as_deref(), Some("True"));
        assert_eq!(
            eval(r#"IIF([country]="USA", [givenName], [surname])"#).as_deref(),
            Some("Megan")
        );
        assert_eq!(
            eval(r#"IIF([country]="FR", [givenName], [surname])"#).as_deref(),
            Some("Bowen")
        );
        assert_eq!(
            eval(r#"IIF(IsNull([missing]), "none", [mail])"#).as_deref(),
            Some("none")
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        for bad in [
            "",
            "Switch([a]",
            "[a",
            "\"open",
            "Join(\" \" [a])",
            "Fn x",
            "[a] extra",
            "[]",
        ] {
            let err = Expr::parse(bad).unwrap_err();
            assert!(
                matches!(err, ExpressionError::Syntax { .. }),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("character"), "{err}");
        }
    }

    #[test]
    fn unknown_functions_and_arity_fail_at_evaluation() {
        let e = Expr::parse("Frobnicate([mail])").unwrap();
        assert!(matches!(
            e.eval(&user),
            Err(ExpressionError::UnknownFunction { .. })
        ));
        let e = Expr::parse("Not([a], [b])").unwrap();
        assert!(matches!(
            e.eval(&user),
            Err(ExpressionError::Arity { got: 2, .. })
        ));
        assert_eq!(
            Expr::parse("IsNull()").unwrap(),
            Expr::Call("IsNull".into(), vec![])
        );
    }
}
