//! `mappings --schema FILE`: the mapping edit of steps 9–13 applied offline to
//! an exported synchronization schema (a support tool: no sign-in, no network).

use std::path::{Path, PathBuf};

use orchidea_wizard::procedure::mapping::{self, MappingError, MappingOptions, UserNameSource};
use serde_json::Value;

use crate::args::UserNameArg;

/// Why the offline edit stopped; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum MappingsError {
    #[error(
        "--out {} is the exported schema itself; write the edited schema to another file so the export stays as Entra returned it.",
        .0.display()
    )]
    OutIsInput(PathBuf),
    #[error("Could not read the schema file {}: {source}.", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "The schema file {} is not JSON ({source}). Export it with GET …/synchronization/jobs/{{jobId}}/schema and save the response body as it is.",
        path.display()
    )]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "The schema file {} holds a JSON {kind} instead of a synchronizationSchema object.",
        path.display()
    )]
    NotAnObject { path: PathBuf, kind: &'static str },
    #[error(transparent)]
    Plan(#[from] MappingError),
    #[error("Could not write {}: {source}.", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(clap::Args)]
pub struct MappingsArgs {
    /// The schema as exported from Graph: the body of
    /// `GET …/synchronization/jobs/{id}/schema` (with or without `@odata.context`).
    #[arg(long, value_name = "FILE")]
    schema: PathBuf,
    /// Write the edited schema here (pretty JSON, key order kept), ready to PUT back.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Source of userName (steps 11–12).
    #[arg(long, value_enum, default_value = "mail")]
    user_name: UserNameArg,
    /// Orchidea's SCIM serves no `Group` resource type: disable the group
    /// mapping, as the wizard does after its pre-flight (offline, nothing
    /// can ask Orchidea, so by default the group mapping is left as it is).
    #[arg(long)]
    no_scim_groups: bool,
}

pub fn run(args: &MappingsArgs) -> Result<bool, MappingsError> {
    if let Some(out) = &args.out
        && same_file(out, &args.schema)
    {
        return Err(MappingsError::OutIsInput(out.clone()));
    }
    let schema = read_schema(&args.schema)?;
    let opts = MappingOptions {
        user_name_source: match args.user_name {
            UserNameArg::Mail => UserNameSource::Mail,
            UserNameArg::Coalesce => UserNameSource::CoalesceMailUpn,
        },
        scim_groups: args.no_scim_groups.then_some(false),
    };
    let plan = mapping::plan(&schema, &opts)?;
    println!(
        "User mapping \"{}\" (rule {}):",
        plan.mapping_name, plan.rule_id
    );
    if plan.is_noop() {
        println!("  already matches Orchidea's specification; nothing to change.");
    }
    for line in plan.diff_lines() {
        println!("  {line}");
    }
    if let Some(out) = &args.out {
        std::fs::write(out, pretty(&plan.edited)).map_err(|source| MappingsError::Write {
            path: out.clone(),
            source,
        })?;
        println!("Edited schema written to {}.", out.display());
    }
    Ok(true)
}

/// The schema object from FILE: the raw `synchronizationSchema`, as a GET
/// returns it (its `@odata.context` is kept, as the wizard's own PUT keeps it).
fn read_schema(path: &Path) -> Result<Value, MappingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| MappingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|source| MappingsError::NotJson {
        path: path.to_path_buf(),
        source,
    })?;
    if !value.is_object() {
        return Err(MappingsError::NotAnObject {
            path: path.to_path_buf(),
            kind: kind(&value),
        });
    }
    Ok(value)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Four-space pretty JSON with a final newline (`preserve_order` keeps the keys as read).
fn pretty(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    // Serialising a Value into a Vec cannot fail.
    let _ = serde::Serialize::serialize(v, &mut ser);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_keeps_key_order_with_four_spaces_and_a_final_newline() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":[true]}"#).unwrap();
        assert_eq!(
            String::from_utf8(pretty(&v)).unwrap(),
            "{\n    \"b\": 1,\n    \"a\": [\n        true\n    ]\n}\n"
        );
    }

    #[test]
    fn a_schema_file_that_is_not_an_object_is_named_with_its_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.json");
        std::fs::write(&path, "[1]").unwrap();
        assert_eq!(
            read_schema(&path).unwrap_err().to_string(),
            format!(
                "The schema file {} holds a JSON array instead of a synchronizationSchema object.",
                path.display()
            )
        );
        assert!(same_file(&path, &dir.path().join(".").join("schema.json")));
    }
}
