//! The dependency rules between the folders of `src/` (docs/architecture.md,
//! "Dependency rules"), checked on the source text at test time: a file in
//! a layer may name (`crate::<layer>`) only the layers the rules allow it.
//! Unit tests at the bottom of a file (from its first `#[cfg(test)]`) and
//! comments are not production code and are not checked.

use std::path::{Path, PathBuf};

/// The layers, each with the layers its production code may import. A
/// layer may always import itself.
const RULES: &[(&str, &[&str])] = &[
    ("platform", &[]),
    ("procedure", &["platform"]),
    ("services", &["procedure", "platform"]),
    ("engine", &["services", "procedure", "platform"]),
    // The sandbox plays Microsoft and Orchidea: it shares the services'
    // wire types and tables (Graph's permission table, Orchidea's IdP) but
    // never sees the engine that drives it.
    ("sandbox", &["services", "procedure", "platform"]),
    // The wiring: a real tenant, or the sandbox for the demo and the tests.
    (
        "setup",
        &["engine", "sandbox", "services", "procedure", "platform"],
    ),
    (
        "bench",
        &[
            "setup",
            "engine",
            "sandbox",
            "services",
            "procedure",
            "platform",
        ],
    ),
    (
        "ui",
        &[
            "bench",
            "setup",
            "engine",
            "sandbox",
            "services",
            "procedure",
            "platform",
        ],
    ),
];

/// What the crate root re-exports, by the layer it lives in.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Secret", "platform"),
    ("StepId", "procedure"),
    ("Checklist", "procedure"),
    ("Progress", "procedure"),
    ("Status", "procedure"),
];

/// The layers a piece of source names through `prefix` (`crate::` inside
/// the library, `orchidea_wizard::` in the binaries), comments and unit
/// tests left out.
fn named_layers(source: &str, prefix: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            // `crate::{a::X, b}` names each of a and b.
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end]
                    .split(',')
                    .map(|part| part.trim().split("::").next().unwrap_or(""))
                    .collect()
            } else {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                vec![&rest[..end]]
            };
            for name in names {
                let layer = RULES
                    .iter()
                    .map(|(layer, _)| *layer)
                    .find(|layer| *layer == name)
                    .or_else(|| {
                        ROOT_ITEMS
                            .iter()
                            .find(|(item, _)| *item == name)
                            .map(|(_, layer)| *layer)
                    });
                if let Some(layer) = layer {
                    found.push((index + 1, layer));
                }
            }
        }
    }
    found
}

/// Every `.rs` file of a layer: `src/<layer>.rs` and all under `src/<layer>/`.
fn layer_files(src: &Path, layer: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let root = src.join(format!("{layer}.rs"));
    if root.is_file() {
        files.push(root);
    }
    let mut folders = vec![src.join(layer)];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let src = src();
    let mut broken = Vec::new();
    for (layer, allowed) in RULES {
        let files = layer_files(&src, layer);
        assert!(!files.is_empty(), "no files for layer {layer} under src/");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, named) in named_layers(&text, "crate::") {
                if named != *layer && !allowed.contains(&named) {
                    broken.push(format!(
                        "{}:{line}: {layer} imports {named}",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the dependency rules (docs/architecture.md):\n{}",
        broken.join("\n")
    );
}

/// The CLI's name, or a flag (`--word` after a quote, space, backtick or
/// parenthesis).
fn names_cli(line: &str) -> bool {
    line.contains("orchidea-wizard-cli")
        || line.match_indices("--").any(|(i, _)| {
            let before = line[..i].chars().last();
            let after = line[i + 2..].chars().next();
            matches!(before, Some('"' | ' ' | '`' | '('))
                && after.is_some_and(|c| c.is_ascii_lowercase())
        })
}

#[test]
fn what_names_the_cli() {
    assert!(names_cli(r#"Err("pass \"--yes\" to go on")"#));
    assert!(names_cli("\"--yes\""));
    assert!(names_cli("\"run `orchidea-wizard-cli`\""));
    assert!(names_cli("format!(\"see (--app-id)\")"));
    assert!(!names_cli("let x = a--b;"));
    assert!(!names_cli("\"---\" and \"x -- 9\""));
}

/// The engine's words serve the window and the CLI alike: a message that
/// names a CLI command or flag belongs in the CLI's rendering (`hints.rs`).
#[test]
fn the_engine_and_services_name_no_cli_command() {
    let src = src();
    let mut broken = Vec::new();
    for layer in ["procedure", "engine", "services", "platform"] {
        for file in layer_files(&src, layer) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (index, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if names_cli(line) {
                    broken.push(format!(
                        "{}:{}: {}",
                        file.strip_prefix(&src).unwrap_or(&file).display(),
                        index + 1,
                        code
                    ));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "CLI commands or flags named outside the CLI:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_cli_does_not_use_the_window() {
    let mut broken = Vec::new();
    let mut folders = vec![src().join("bin")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (line, named) in named_layers(&text, "orchidea_wizard::") {
                    if named == "ui" {
                        broken.push(format!("{}:{line}", path.display()));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "the CLI uses the window: {broken:?}");
}

#[test]
fn the_checker_sees_paths_groups_and_root_items_but_not_comments_or_tests() {
    let source = "use crate::engine::Engine;\n\
                  // crate::ui in a comment\n\
                  use crate::{sandbox::Sandbox, platform};\n\
                  fn f(s: crate::Secret) {}\n\
                  #[cfg(test)]\n\
                  mod tests { use crate::ui; }\n";
    assert_eq!(
        named_layers(source, "crate::"),
        [
            (1, "engine"),
            (3, "sandbox"),
            (3, "platform"),
            (4, "platform")
        ]
    );
}
