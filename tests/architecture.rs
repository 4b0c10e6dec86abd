//! The layers of docs/architecture.md hold: in the code that ships (not unit tests), every
//! `crate::` path points to the same layer or one below, and no two modules import each other,
//! directly or around a loop. Reads `src/` as text: a `use` or path added anywhere is checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top.
const LAYERS: [&str; 9] = [
    "error", "numeric", "sample", "model", "election", "engine", "question", "export", "cli",
];

/// Module path (`election::trial`) to the file's code before its `#[cfg(test)]` module.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            // The unit-test module, and only it, is left out: a `#[cfg(test)]` item above it
            // (a helper the tests call) is checked with the code that ships.
            let code = match test_module_start(&text) {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            out.insert(parts.join("::"), code);
        }
    }
    out
}

/// Where a file's `#[cfg(test)] mod ...` begins, if it has one.
fn test_module_start(text: &str) -> Option<usize> {
    text.match_indices("#[cfg(test)]")
        .map(|(i, _)| i)
        .find(|&i| {
            let after = text[i + "#[cfg(test)]".len()..].trim_start();
            after.starts_with("mod ") || after.starts_with("pub(crate) mod ")
        })
}

/// The modules each module's code names by `crate::` path (the longest known prefix).
fn imports(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (name, code) in mods {
        let mut deps = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let path: String = code[i + 7..]
                .chars()
                .take_while(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':'
                })
                .collect();
            let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            if let Some(m) = (1..=segs.len())
                .rev()
                .map(|k| segs[..k].join("::"))
                .find(|m| mods.contains_key(m))
                && &m != name
            {
                deps.insert(m);
            }
        }
        // `super::` names the parent module; a child declared here and named as `child::` is an
        // import of it too.
        let parent = name.rsplit_once("::").map(|(p, _)| p.to_string());
        if let Some(parent) = parent.filter(|p| mods.contains_key(p))
            && code.contains("super::")
        {
            deps.insert(parent);
        }
        for line in code.lines() {
            let decl = line
                .trim()
                .trim_start_matches("pub ")
                .trim_start_matches("pub(crate) ");
            if let Some(child) = decl.strip_prefix("mod ").and_then(|c| c.strip_suffix(';')) {
                let uses = code.match_indices(&format!("{child}::")).any(|(i, _)| {
                    !code[..i].ends_with(|c: char| c == ':' || c == '_' || c.is_alphanumeric())
                });
                if uses {
                    deps.insert(format!("{name}::{child}"));
                }
            }
        }
        edges.insert(name.clone(), deps);
    }
    edges
}

fn layer(module: &str) -> usize {
    let top = module.split("::").next().unwrap();
    LAYERS
        .iter()
        .position(|l| *l == top)
        .unwrap_or_else(|| panic!("module `{module}` is in no layer of docs/architecture.md"))
}

#[test]
fn imports_point_down_the_layers() {
    let mods = modules();
    assert!(mods.len() > 30, "found only {} modules", mods.len());
    let mut upward = Vec::new();
    for (m, deps) in imports(&mods) {
        for d in deps {
            if layer(&d) > layer(&m) {
                upward.push(format!("{m} -> {d}"));
            }
        }
    }
    assert!(upward.is_empty(), "imports up the layers: {upward:#?}");
}

#[test]
fn no_module_imports_around_a_loop() {
    let edges = imports(&modules());
    // Depth-first search; a grey node met again closes a loop.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in &edges[m] {
            match state.get(d.as_str()) {
                Some(1) => {
                    let at = path.iter().position(|p| p == d).unwrap();
                    let mut lp = path[at..].to_vec();
                    lp.push(d.clone());
                    return Some(lp);
                }
                Some(_) => {}
                None => {
                    if let Some(lp) = visit(d, edges, state, path) {
                        return Some(lp);
                    }
                }
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in edges.keys() {
        if !state.contains_key(m.as_str())
            && let Some(lp) = visit(m, &edges, &mut state, &mut Vec::new())
        {
            panic!(
                "modules import each other around a loop: {}",
                lp.join(" -> ")
            );
        }
    }
}
