//! Embeds the named scenarios (`scenarios/*.json`) in the binary, so an installed `recount`
//! (`cargo install`) runs `recount list` and `recount run inverse-odihr` from any directory.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the scenarios/ folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            p.file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut code = String::from("/// The named scenarios: (name, JSON text), sorted by name.\n");
    code.push_str("pub static NAMED: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = dir.join(format!("{name}.json"));
        println!("cargo:rerun-if-changed={}", path.display());
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("named.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
