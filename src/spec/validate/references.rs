//! Resource references (`${functions.f.arn}`): where they may appear, what
//! they name, and the dependency cycles they would make.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde_json::Value;

use super::Checker;
use crate::diag::{Diagnostic, did_you_mean};
use crate::spec::refs::{self, Ref, RefKind, Segment};
use crate::spec::yaml::escape;

impl Checker<'_> {
    /// Resource references: where they may appear, what they name, cycles.
    pub(super) fn references(&mut self, json: &Value) {
        let l = self.l;
        let spec = &l.spec;
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // Where each edge comes from: the first reference that makes it.
        let mut at: BTreeMap<(String, String), Range<usize>> = BTreeMap::new();
        let mut strings: Vec<(String, String, Option<String>)> = Vec::new(); // (pointer, text, owner node)
        collect_strings(json, String::new(), &mut strings);
        for (p, text, _) in &strings {
            let owner = allowed_owner(p);
            let Ok(segments) = refs::parse(text) else {
                continue;
            };
            for seg in segments {
                if let Segment::Ref(
                    Ref::Endpoint {
                        runtime,
                        endpoint,
                        attr,
                    },
                    range,
                ) = &seg
                {
                    let expr = &text[range.clone()];
                    let span = self.inner_span(p, expr);
                    let problem = match spec.runtimes.get(runtime) {
                        None => Some((
                            format!("`{expr}` refers to an unknown runtime `{runtime}`"),
                            "no such runtime",
                            "declare the runtime under `runtimes:`".to_string(),
                        )),
                        Some(r) if !r.endpoints.contains_key(endpoint) => Some((
                            format!(
                                "`{expr}` refers to an unknown endpoint `{endpoint}` of runtime `{runtime}`"
                            ),
                            "no such endpoint",
                            format!("declare it under `runtimes.{runtime}.endpoints:`"),
                        )),
                        Some(_) if !refs::ENDPOINT_ATTRS.contains(&attr.as_str()) => Some((
                            format!("runtime endpoint `{endpoint}` has no attribute `{attr}`"),
                            "unknown attribute",
                            "runtime endpoints expose `arn`, `name`".to_string(),
                        )),
                        Some(_) => None,
                    };
                    if let Some((message, label, help)) = problem {
                        self.diags
                            .push(Diagnostic::new(message, span).label(label).help(help));
                        continue;
                    }
                    // The endpoint is created with its runtime: order by that.
                    let target = format!("runtimes.{runtime}");
                    self.place(&owner, expr, span, target, &mut edges, &mut at);
                    continue;
                }
                let Segment::Ref(Ref::Resource { kind, name, attr }, range) = seg else {
                    continue;
                };
                let expr = &text[range];
                let span = self.inner_span(p, expr);
                let Some(ref_kind) = RefKind::parse(&kind) else {
                    let mut d = Diagnostic::new(
                        format!("unknown resource kind `{kind}` in `{expr}`"),
                        span.clone(),
                    )
                    .label("unknown kind");
                    d = match did_you_mean(&kind, RefKind::ALL.iter().map(|k| k.section())) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => {
                            d.help("references name functions, gateways, runtimes or repositories")
                        }
                    };
                    self.diags.push(d);
                    continue;
                };
                let attrs: Vec<&str> = ref_kind.attrs().iter().map(|a| a.as_str()).collect();
                let names: Vec<String> = match ref_kind {
                    RefKind::Functions => spec.functions.keys().cloned().collect(),
                    RefKind::Gateways => spec.gateways.keys().cloned().collect(),
                    RefKind::Runtimes => spec.runtimes.keys().cloned().collect(),
                    RefKind::Repositories => spec.repositories.keys().cloned().collect(),
                    RefKind::Memories => spec.memories.keys().cloned().collect(),
                };
                if !names.contains(&name) {
                    let d = Diagnostic::new(
                        format!("`{expr}` refers to an unknown {} `{name}`", singular(&kind)),
                        span.clone(),
                    )
                    .label(format!("no such {}", singular(&kind)));
                    self.diags.push(
                        match did_you_mean(&name, names.iter().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None if names.is_empty() => d.help(format!(
                                "the spec declares no {kind}; declare `{name}` under `{kind}:`"
                            )),
                            None => d.help(format!(
                                "declared {kind}: {}",
                                names
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        },
                    );
                    continue;
                }
                if !attrs.contains(&attr.as_str()) {
                    let list = attrs
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let d = Diagnostic::new(
                        format!("{} `{name}` has no attribute `{attr}`", singular(&kind)),
                        span.clone(),
                    )
                    .label("unknown attribute");
                    self.diags
                        .push(match did_you_mean(&attr, attrs.iter().copied()) {
                            Some(s) => d.help(format!("did you mean `{s}`? {kind} expose {list}")),
                            None => d.help(format!("{kind} expose {list}")),
                        });
                    continue;
                }
                let target = format!("{kind}.{name}");
                self.place(&owner, expr, span, target, &mut edges, &mut at);
            }
        }
        // Every cycle: report one, cut the edge it is reported at, look again.
        while let Some(cycle) = find_cycle(&edges) {
            let (from, to) = (cycle[0].clone(), cycle[1].clone());
            let span = at.get(&(from.clone(), to.clone())).cloned().unwrap_or(0..0);
            let d = if from == to {
                Diagnostic::new(format!("`{from}` refers to itself"), span)
                    .label("a resource cannot use its own attributes")
                    .help("these attributes exist only once the resource is created; remove this reference")
            } else {
                Diagnostic::new(format!("reference cycle: {}", cycle.join(" -> ")), span)
                    .label(format!("`{from}` needs `{to}` here"))
                    .help("each resource is created after those it references, so a cycle can never be created; remove one reference of the cycle")
            };
            self.diags.push(d);
            if let Some(targets) = edges.get_mut(&from) {
                targets.remove(&to);
            }
        }
    }
}

fn singular(kind: &str) -> &str {
    match kind {
        "functions" => "function",
        "gateways" => "gateway",
        "runtimes" => "runtime",
        "repositories" => "repository",
        other => other,
    }
}

/// `None`: references not allowed; `Some(None)`: allowed, no dependency edge
/// (outputs); `Some(Some(node))`: allowed and `node` depends on the target.
/// Edges of the reference graph, from the node that refers to the node
/// referred to, with where the first such reference is.
type Edges = BTreeMap<String, BTreeSet<String>>;
type EdgeSpans = BTreeMap<(String, String), Range<usize>>;

impl Checker<'_> {
    /// A reference to `target` found in a field whose owner is `owner`
    /// (see [`allowed_owner`]): refused where references are not allowed,
    /// else an edge of the dependency graph (outputs make none).
    fn place(
        &mut self,
        owner: &Option<Option<String>>,
        expr: &str,
        span: Range<usize>,
        target: String,
        edges: &mut Edges,
        at: &mut EdgeSpans,
    ) {
        match owner {
            None => self.diags.push(
                Diagnostic::new(format!("`{expr}` cannot be used here"), span)
                    .label("resource references are not allowed in this field")
                    .help("resource references may appear in `environment` values, `outputs` and Cedar policies"),
            ),
            Some(Some(node)) => {
                edges
                    .entry(node.clone())
                    .or_default()
                    .insert(target.clone());
                at.entry((node.clone(), target)).or_insert(span);
            }
            Some(None) => {}
        }
    }
}

fn allowed_owner(p: &str) -> Option<Option<String>> {
    let parts: Vec<&str> = p.split('/').skip(1).collect();
    match parts.as_slice() {
        ["outputs", _] => Some(None),
        [kind @ ("functions" | "runtimes"), name, "environment", _] => {
            Some(Some(format!("{kind}.{name}")))
        }
        [
            "policy_engines",
            engine,
            "policies",
            policy,
            "cedar",
            "inline",
        ] => Some(Some(format!("policy_engines.{engine}.policies.{policy}"))),
        _ => None,
    }
}

fn collect_strings(v: &Value, p: String, out: &mut Vec<(String, String, Option<String>)>) {
    match v {
        Value::String(s) if s.contains("${") => out.push((p, s.clone(), None)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| collect_strings(x, format!("{p}/{i}"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| collect_strings(x, format!("{p}/{}", escape(k)), out)),
        _ => {}
    }
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn dfs(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = dfs(m, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        if let Some(c) = dfs(n, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}
