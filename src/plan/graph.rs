//! The dependency graph of what a spec wants, as Graphviz DOT or Mermaid:
//! one node per resource (its address), an edge from each resource to what
//! must exist before it (the order apply creates in; destroy goes the other
//! way). Also as JSON, for scripts (the benchmark's lower bound reads it).

use std::fmt::Write;

use crate::model::Desired;

/// `digraph` text: `"runtime.agent" -> "gateway.main";`
pub fn dot(desired: &[Desired]) -> String {
    let mut out = String::from("digraph agentform {\n  rankdir = \"LR\";\n  node [shape = box];\n");
    for d in desired {
        let _ = writeln!(out, "  \"{}\";", d.addr);
    }
    for d in desired {
        for dep in &d.deps {
            let _ = writeln!(out, "  \"{}\" -> \"{dep}\";", d.addr);
        }
    }
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart (renders on GitHub).
pub fn mermaid(desired: &[Desired]) -> String {
    // Mermaid ids allow no dots or slashes: number the nodes, label them.
    let id = |i: usize| format!("n{i}");
    let index = |a: &crate::model::Address| desired.iter().position(|d| &d.addr == a);
    let mut out = String::from("flowchart LR\n");
    for (i, d) in desired.iter().enumerate() {
        let _ = writeln!(out, "  {}[\"{}\"]", id(i), d.addr);
    }
    for (i, d) in desired.iter().enumerate() {
        for dep in d.deps.iter().filter_map(index) {
            let _ = writeln!(out, "  {} --> {}", id(i), id(dep));
        }
    }
    out
}

/// `{"resources": [{"address", "kind", "depends_on": [...]}]}`, in the
/// order, spec gives them.
pub fn json(desired: &[Desired]) -> String {
    let resources: Vec<serde_json::Value> = desired
        .iter()
        .map(|d| {
            serde_json::json!({
                "address": d.addr.to_string(),
                "kind": d.addr.kind().label(),
                "depends_on": d.deps.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&serde_json::json!({ "resources": resources }))
        .expect("JSON of strings");
    out.push('\n');
    out
}
