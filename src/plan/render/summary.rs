//! Compact forms of the kinds of value that make a plan long: IAM policy
//! documents (one entry per statement: effect, actions, principal,
//! resources, conditions), a target's tool list (one line per tool, as a
//! signature) and Cedar statements (their own lines, references not known
//! yet shown by name). `--full` and the JSON plan show them whole.

use serde_json::Value;

use super::scalar;
use crate::model::{Kind, Val};

/// Lines wider than this put a statement's resources on their own line.
const WIDTH: usize = 100;

/// The summary of `v` as the field `field` of a `kind`, when it has one.
pub(super) fn of(kind: Kind, field: &str, v: &Val) -> Option<Summary> {
    if kind == Kind::GatewayTarget && field == "tools" {
        return tools(v);
    }
    if kind == Kind::Policy && field == "statement" {
        return cedar(v);
    }
    policy(v)
}

pub(super) struct Summary {
    /// What follows `field =`, e.g. `IAM policy, 2 statements:`.
    pub title: String,
    pub lines: Vec<String>,
}

/// A value as text for a summary: strings bare (ARNs read better so), the
/// unknown marker as itself, anything else as compact JSON.
fn text(v: &Val) -> String {
    match v {
        Val::Str(s) => s.clone(),
        Val::List(l) => l.iter().map(text).collect::<Vec<_>>().join(", "),
        Val::Map(_) => v
            .to_json()
            .map(|j| j.to_string())
            .unwrap_or_else(|| scalar(v)),
        other => scalar(other),
    }
}

/// A Cedar statement as its lines; a reference not known yet as
/// `${ADDRESS.ATTR}` (known after apply).
fn cedar(v: &Val) -> Option<Summary> {
    use crate::model::Part;
    let (text, pending) = match v {
        Val::Str(s) => (s.clone(), false),
        Val::Unknown(t) => (
            t.0.iter()
                .map(|p| match p {
                    Part::Lit(s) => s.clone(),
                    Part::Ref(r) => format!("${{{}.{}}}", r.addr, r.attr.as_str()),
                })
                .collect(),
            true,
        ),
        _ => return None,
    };
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len();
    let title = format!(
        "Cedar, {n} line{}{}:",
        if n == 1 { "" } else { "s" },
        if pending {
            ", ${...} known after apply"
        } else {
            ""
        }
    );
    Some(Summary { title, lines })
}

fn get<'a>(m: &'a std::collections::BTreeMap<String, Val>, k: &str) -> Option<&'a Val> {
    m.get(k)
}

fn policy(v: &Val) -> Option<Summary> {
    let Val::Map(doc) = v else { return None };
    let statements: Vec<&Val> = match get(doc, "Statement")? {
        Val::List(l) => l.iter().collect(),
        one @ Val::Map(_) => vec![one],
        _ => return None,
    };
    let parsed: Vec<_> = statements
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Val::Map(s) => Some(statement(i, s)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let width = parsed.iter().map(|(sid, _)| sid.len()).max().unwrap_or(0);
    let mut lines = Vec::new();
    for (sid, parts) in parsed {
        let pad = " ".repeat(width + 2);
        let mut first = format!("{sid:<width$}  {}", parts.head);
        match parts.resources {
            Some(r) if first.len() + 4 + r.len() <= WIDTH => {
                first.push_str(" on ");
                first.push_str(&r);
                lines.push(first);
            }
            Some(r) => {
                lines.push(first);
                lines.push(format!("{pad}  on {r}"));
            }
            None => lines.push(first),
        }
        for c in parts.conditions {
            lines.push(format!("{pad}  when {c}"));
        }
    }
    let n = lines_count_word(statements.len(), "statement");
    Some(Summary {
        title: format!("IAM policy, {n}:"),
        lines,
    })
}

fn lines_count_word(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

struct Parts {
    /// `Allow a, b by service x`.
    head: String,
    resources: Option<String>,
    conditions: Vec<String>,
}

fn statement(i: usize, s: &std::collections::BTreeMap<String, Val>) -> (String, Parts) {
    let sid = get(s, "Sid")
        .and_then(Val::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("#{}", i + 1));
    let effect = get(s, "Effect").map(text).unwrap_or_default();
    let mut head = effect;
    match (get(s, "Action"), get(s, "NotAction")) {
        (Some(a), _) => head.push_str(&format!(" {}", text(a))),
        (None, Some(a)) => head.push_str(&format!(" every action but {}", text(a))),
        (None, None) => {}
    }
    for (key, word) in [("Principal", "by"), ("NotPrincipal", "by anyone but")] {
        if let Some(p) = get(s, key) {
            head.push_str(&format!(" {word} {}", principal(p)));
        }
    }
    let resources = match (get(s, "Resource"), get(s, "NotResource")) {
        (Some(r), _) => Some(text(r)),
        (None, Some(r)) => Some(format!("everything but {}", text(r))),
        (None, None) => None,
    };
    let mut conditions = Vec::new();
    if let Some(Val::Map(ops)) = get(s, "Condition") {
        for (op, keys) in ops {
            if let Val::Map(keys) = keys {
                for (k, v) in keys {
                    let values = match v {
                        Val::List(l) => l.iter().map(scalar).collect::<Vec<_>>().join(" or "),
                        one => scalar(one),
                    };
                    conditions.push(format!("{k} {op} {values}"));
                }
            }
        }
    }
    (
        sid,
        Parts {
            head,
            resources,
            conditions,
        },
    )
}

fn principal(p: &Val) -> String {
    match p {
        Val::Str(s) if s == "*" => "anyone".into(),
        Val::Map(m) => m
            .iter()
            .map(|(k, v)| format!("{} {}", k.to_lowercase(), text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => text(other),
    }
}

/// `name(a: number, b?: string) -> object: description`.
fn tools(v: &Val) -> Option<Summary> {
    let Val::List(list) = v else { return None };
    let json = v.to_json()?;
    let Value::Array(items) = json else {
        return None;
    };
    let lines = items
        .iter()
        .map(|t| {
            let name = t.get("name")?.as_str()?;
            let desc = t.get("description").and_then(Value::as_str).unwrap_or("");
            let params = t.get("input").map(params).unwrap_or_default();
            let ret = t
                .get("output")
                .map(|o| format!(" -> {}", type_of(o)))
                .unwrap_or_default();
            let desc = if desc.is_empty() {
                String::new()
            } else {
                format!(": {desc}")
            };
            Some(format!("{name}({params}){ret}{desc}"))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Summary {
        title: format!("{}:", lines_count_word(list.len(), "tool")),
        lines,
    })
}

fn params(schema: &Value) -> String {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(k, p)| {
                    let opt = if required.contains(&k.as_str()) {
                        ""
                    } else {
                        "?"
                    };
                    format!("{k}{opt}: {}", type_of(p))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn type_of(schema: &Value) -> String {
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    match ty {
        "array" => format!(
            "array<{}>",
            schema.get("items").map(type_of).unwrap_or("any".into())
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(kind: Kind, field: &str, v: Value) -> Vec<String> {
        let s = of(kind, field, &Val::from(v)).expect("summarised");
        std::iter::once(s.title).chain(s.lines).collect()
    }

    #[test]
    fn statements_one_line_each_with_conditions_below() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "bedrock-agentcore.amazonaws.com"},
             "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}},
            {"Sid": "Long", "Effect": "Deny", "NotAction": "iam:*", "Resource": ["arn:aws:lambda:us-east-1:123456789012:function:a-very-long-function-name", "arn:aws:lambda:us-east-1:123456789012:function:another-one:*"]},
        ]});
        assert_eq!(
            lines(Kind::RolePolicy, "policy", doc),
            [
                "IAM policy, 3 statements:",
                "Logs  Allow logs:CreateLogStream, logs:PutLogEvents on *",
                "#2    Allow sts:AssumeRole by service bedrock-agentcore.amazonaws.com",
                "        when aws:SourceAccount StringEquals \"123456789012\"",
                "Long  Deny every action but iam:*",
                "        on arn:aws:lambda:us-east-1:123456789012:function:a-very-long-function-name, arn:aws:lambda:us-east-1:123456789012:function:another-one:*",
            ]
        );
    }

    #[test]
    fn tools_as_signatures() {
        let tools = serde_json::json!([
            {"name": "add", "description": "Adds", "input": {"type": "object", "properties": {"a": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["a"]}},
            {"name": "now", "description": "", "input": {"type": "object"}, "output": {"type": "string"}},
        ]);
        assert_eq!(
            lines(Kind::GatewayTarget, "tools", tools),
            [
                "2 tools:",
                "add(a: number, tags?: array<string>): Adds",
                "now() -> string",
            ]
        );
    }

    #[test]
    fn other_values_are_not_summarised() {
        assert!(
            of(
                Kind::Gateway,
                "tags",
                &Val::from(serde_json::json!({"a": "b"}))
            )
            .is_none()
        );
        assert!(of(Kind::Function, "tools", &Val::from(serde_json::json!([1]))).is_none());
    }
}
