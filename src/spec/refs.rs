//! `${...}` expressions inside spec strings.
//!
//! - `${var.NAME}`: a variable (default, or `--var NAME=value`).
//! - `${env:NAME}`: an environment variable of the process running agentform.
//! - `${KIND.NAME.ATTR}`: an attribute of another resource of the spec, e.g.
//!   `${gateways.main.url}`; these make the dependency graph.
//! - `$${` is a literal `${`.

use std::ops::Range;

use crate::model::{Address, Attr};

/// The resource kinds a `${KIND.NAME.ATTR}` reference may name (the
/// spec's section names), with the attributes each exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Functions,
    Gateways,
    Runtimes,
    Repositories,
    Memories,
}

impl RefKind {
    pub const ALL: [RefKind; 5] = [
        RefKind::Functions,
        RefKind::Gateways,
        RefKind::Runtimes,
        RefKind::Repositories,
        RefKind::Memories,
    ];

    /// The spec section, as written in references.
    pub fn section(self) -> &'static str {
        match self {
            RefKind::Functions => "functions",
            RefKind::Gateways => "gateways",
            RefKind::Runtimes => "runtimes",
            RefKind::Repositories => "repositories",
            RefKind::Memories => "memories",
        }
    }

    pub fn parse(s: &str) -> Option<RefKind> {
        RefKind::ALL.into_iter().find(|k| k.section() == s)
    }

    pub fn attrs(self) -> &'static [Attr] {
        match self {
            RefKind::Functions => &[Attr::Arn, Attr::Name],
            RefKind::Gateways => &[Attr::Id, Attr::Arn, Attr::Url, Attr::Name],
            RefKind::Runtimes => &[Attr::Id, Attr::Arn, Attr::Name],
            RefKind::Repositories => &[Attr::Uri, Attr::Arn, Attr::Name],
            RefKind::Memories => &[Attr::Id, Attr::Arn, Attr::Name],
        }
    }

    /// The address of the resource `key` of this section.
    pub fn address(self, key: &str) -> Address {
        let key = key.to_string();
        match self {
            RefKind::Functions => Address::Function(key),
            RefKind::Gateways => Address::Gateway(key),
            RefKind::Runtimes => Address::Runtime(key),
            RefKind::Repositories => Address::Repository(key),
            RefKind::Memories => Address::Memory(key),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Var(String),
    Env(String),
    Resource {
        kind: String,
        name: String,
        attr: String,
    },
    /// `${runtimes.RUNTIME.endpoints.NAME.ATTR}`.
    Endpoint {
        runtime: String,
        endpoint: String,
        attr: String,
    },
}

/// Attributes a runtime endpoint exposes.
pub const ENDPOINT_ATTRS: &[&str] = &["arn", "name"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// A reference and its byte range within the string (`${` to `}`).
    Ref(Ref, Range<usize>),
}

/// A malformed expression: message, byte range within the string, and a
/// hint when there is a likely fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError {
    pub message: String,
    pub range: Range<usize>,
    pub help: Option<String>,
}

/// Splits a string into literal text and references.
pub fn parse(s: &str) -> Result<Vec<Segment>, RefError> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < s.len() {
        if s[i..].starts_with("$${") {
            lit.push_str("${");
            i += 3;
        } else if s[i..].starts_with("${") {
            let Some(close) = s[i..].find('}') else {
                return Err(RefError {
                    message: "unclosed `${`".into(),
                    range: i..s.len(),
                    help: Some(
                        "end the expression with `}`, or write `$${` for a literal `${`".into(),
                    ),
                });
            };
            let body = &s[i + 2..i + close];
            let range = i..i + close + 1;
            let r = parse_body(body).map_err(|(message, help)| RefError {
                message,
                range: range.clone(),
                help,
            })?;
            if !lit.is_empty() {
                out.push(Segment::Literal(std::mem::take(&mut lit)));
            }
            out.push(Segment::Ref(r, range));
            i += close + 1;
        } else {
            let ch = s[i..].chars().next().unwrap_or('\0');
            lit.push(ch);
            i += ch.len_utf8().max(1);
            let _ = bytes;
        }
    }
    if !lit.is_empty() {
        out.push(Segment::Literal(lit));
    }
    Ok(out)
}

fn ident_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_body(body: &str) -> Result<Ref, (String, Option<String>)> {
    let body = body.trim();
    if let Some(name) = body.strip_prefix("env:") {
        return if ident_ok(name) {
            Ok(Ref::Env(name.to_string()))
        } else {
            Err((
                format!("invalid environment variable name in `${{{body}}}`"),
                Some("write `${env:NAME}` with letters, digits and `_`".into()),
            ))
        };
    }
    let parts: Vec<&str> = body.split('.').collect();
    match parts.as_slice() {
        ["var", name] if ident_ok(name) => Ok(Ref::Var((*name).to_string())),
        ["var", ..] => Err((format!("invalid variable reference `${{{body}}}`"), Some("write `${var.NAME}`: one name, no dots".into()))),
        ["env", name] if ident_ok(name) => {
            Err((format!("invalid expression `${{{body}}}`"), Some(format!("environment variables are written `${{env:{name}}}`"))))
        }
        ["runtimes", runtime, "endpoints", endpoint, attr]
            if ident_ok(runtime) && ident_ok(endpoint) && ident_ok(attr) =>
        {
            Ok(Ref::Endpoint {
                runtime: (*runtime).to_string(),
                endpoint: (*endpoint).to_string(),
                attr: (*attr).to_string(),
            })
        }
        [kind, name, attr] if ident_ok(kind) && ident_ok(name) && ident_ok(attr) => {
            Ok(Ref::Resource { kind: (*kind).to_string(), name: (*name).to_string(), attr: (*attr).to_string() })
        }
        [kind, name] if ident_ok(kind) && ident_ok(name) => Err((
            format!("invalid expression `${{{body}}}`: no attribute"),
            Some(format!("name an attribute, e.g. `${{{kind}.{name}.arn}}`")),
        )),
        _ => Err((
            format!("invalid expression `${{{body}}}`"),
            Some("write `${var.NAME}`, `${env:NAME}` or `${KIND.NAME.ATTRIBUTE}`; `$${` is a literal `${`".into()),
        )),
    }
}

/// Re-escapes `${` in text that must be taken literally.
pub fn escape_literal(s: &str) -> String {
    s.replace("${", "$${")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mixed_strings() {
        let segs = parse("https://${gateways.main.id}.x/$${raw}").unwrap();
        assert_eq!(
            segs,
            vec![
                Segment::Literal("https://".into()),
                Segment::Ref(
                    Ref::Resource {
                        kind: "gateways".into(),
                        name: "main".into(),
                        attr: "id".into()
                    },
                    8..27
                ),
                Segment::Literal(".x/${raw}".into()),
            ]
        );
        assert_eq!(
            parse("${var.model_id}").unwrap(),
            vec![Segment::Ref(Ref::Var("model_id".into()), 0..15)]
        );
        assert_eq!(
            parse("${env:HOME}").unwrap(),
            vec![Segment::Ref(Ref::Env("HOME".into()), 0..11)]
        );
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(parse("a ${var.x").unwrap_err().message, "unclosed `${`");
        assert!(
            parse("${gateways.main}")
                .unwrap_err()
                .message
                .starts_with("invalid expression")
        );
        assert!(parse("${}").is_err());
        let cases: &[(&str, &str, Range<usize>)] = &[
            (
                "${var.a.b}",
                "invalid variable reference `${var.a.b}`",
                0..10,
            ),
            ("x ${env.HOME} y", "invalid expression `${env.HOME}`", 2..13),
            (
                "${env:A B}",
                "invalid environment variable name in `${env:A B}`",
                0..10,
            ),
            (
                "${gateways.main}",
                "invalid expression `${gateways.main}`: no attribute",
                0..16,
            ),
            ("${a.b.c.d}", "invalid expression `${a.b.c.d}`", 0..10),
        ];
        for (text, message, range) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(
                (e.message.as_str(), e.range),
                (*message, range.clone()),
                "{text}"
            );
            assert!(e.help.is_some(), "{text}");
        }
    }
}

/// The typed reference a `${KIND.NAME.ATTR}` expression names, when the
/// kind and attribute exist (validation reports the others).
pub fn typed(kind: &str, name: &str, attr: &str) -> Option<crate::model::Ref> {
    let kind = RefKind::parse(kind)?;
    let attr = Attr::parse(attr).filter(|a| kind.attrs().contains(a))?;
    Some(crate::model::Ref {
        addr: kind.address(name),
        attr,
    })
}

/// The typed reference `${runtimes.R.endpoints.E.ATTR}` names.
pub fn typed_endpoint(runtime: &str, endpoint: &str, attr: &str) -> Option<crate::model::Ref> {
    if !ENDPOINT_ATTRS.contains(&attr) {
        return None;
    }
    Some(crate::model::Ref {
        addr: crate::model::Address::RuntimeEndpoint {
            runtime: runtime.to_string(),
            endpoint: endpoint.to_string(),
        },
        attr: Attr::parse(attr)?,
    })
}

#[cfg(test)]
mod typed_tests {
    use super::*;

    #[test]
    fn every_documented_reference_is_typed() {
        for kind in RefKind::ALL {
            for attr in kind.attrs() {
                let r = typed(kind.section(), "k", attr.as_str())
                    .unwrap_or_else(|| panic!("{}.{}", kind.section(), attr.as_str()));
                assert_eq!(r.attr, *attr);
                assert_eq!(r.addr, kind.address("k"));
            }
        }
        assert!(typed("gateways", "k", "uri").is_none());
        assert!(typed("nosuch", "k", "arn").is_none());
        assert_eq!(
            parse("${runtimes.agent.endpoints.prod.arn}").unwrap(),
            vec![Segment::Ref(
                Ref::Endpoint {
                    runtime: "agent".into(),
                    endpoint: "prod".into(),
                    attr: "arn".into()
                },
                0..36
            )]
        );
        assert!(typed_endpoint("agent", "prod", "arn").is_some());
        assert!(typed_endpoint("agent", "prod", "url").is_none());
    }
}
