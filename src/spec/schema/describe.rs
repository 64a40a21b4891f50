//! How the structural diagnostics name a place in the spec ("function `f`",
//! "tool `add`", "`memory`"), a value found there, and the types a schema
//! expects.

use serde_json::Value;

use super::is_tool_schema;

/// What the value at `pointer` is, for messages: "function `tools`",
/// "target `calc`", "tool `add`", or the bare key.
pub(super) fn owner(pointer: &str, root: &Value) -> String {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match parts.as_slice() {
        [] => "the spec".to_string(),
        ["functions", n] => format!("function `{n}`"),
        ["gateways", n] => format!("gateway `{n}`"),
        ["gateways", _, "targets", n] => format!("target `{n}`"),
        ["gateways", _, "targets", t, "tools", i] => {
            match root
                .pointer(pointer)
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
            {
                Some(name) => format!("tool `{}`", crate::diag::shorten(name)),
                None => format!(
                    "tool #{} of target `{t}`",
                    i.parse::<usize>().map_or(0, |i| i + 1)
                ),
            }
        }
        ["repositories", n] => format!("repository `{n}`"),
        ["runtimes", n] => format!("runtime `{n}`"),
        ["variables", n] => format!("variable `{n}`"),
        [.., "properties", n] if is_tool_schema(pointer) => format!("the schema of property `{n}`"),
        [.., "tools", _, io @ ("input" | "output")] => {
            format!(
                "the {io} schema of {}",
                owner(&pointer[..pointer.len() - io.len() - 1], root)
            )
        }
        _ => field_name(pointer),
    }
}

pub(super) fn field_name(pointer: &str) -> String {
    let last = pointer.rsplit('/').next().unwrap_or("");
    if last.is_empty() {
        "the spec".to_string()
    } else if last.chars().all(|c| c.is_ascii_digit()) {
        let parent = &pointer[..pointer.len() - last.len() - 1];
        format!("`{}[{last}]`", parent.rsplit('/').next().unwrap_or(""))
    } else {
        format!("`{}`", last.replace("~1", "/").replace("~0", "~"))
    }
}

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("integer `{n}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string \"{}\"", crate::diag::shorten(s)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// How a JSON Schema type is named in messages.
pub(super) fn article(t: &str) -> String {
    match t {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" => "an integer".into(),
        "null" => "empty".into(),
        _ => format!("a {t}"),
    }
}

/// `a`, `a or b`, `a, b or c`.
pub(super) fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
