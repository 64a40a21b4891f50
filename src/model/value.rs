//! Values that may not be known until apply.
//!
//! A reference such as `${gateways.main.url}` to a gateway that does not
//! exist yet has no value at plan time. It is kept as a typed [`Ref`] inside
//! a [`Template`], never as a placeholder string: the dependency comes from
//! the unknown itself, the renderer shows it as `(known after apply)`
//! unquoted, JSON marks it explicitly, and the executor fills it in from the
//! ids of resources created moments earlier, without the spec.

use std::collections::BTreeMap;

use serde_json::{Number, Value};

use super::Address;

/// An attribute of a resource that other resources can refer to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Attr {
    Arn,
    Id,
    Url,
    Uri,
    Name,
    Version,
}

impl Attr {
    pub const ALL: [Attr; 6] = [
        Attr::Arn,
        Attr::Id,
        Attr::Url,
        Attr::Uri,
        Attr::Name,
        Attr::Version,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Attr::Arn => "arn",
            Attr::Id => "id",
            Attr::Url => "url",
            Attr::Uri => "uri",
            Attr::Name => "name",
            Attr::Version => "version",
        }
    }

    pub fn parse(s: &str) -> Option<Attr> {
        Attr::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One attribute of one resource.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Ref {
    pub addr: Address,
    pub attr: Attr,
}

/// A piece of a string that may refer to other resources.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Part {
    Lit(String),
    Ref(Ref),
}

/// A string with at least one reference not resolved yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Template(pub Vec<Part>);

impl Template {
    pub fn refs(&self) -> impl Iterator<Item = &Ref> {
        self.0.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Lit(_) => None,
        })
    }
}

/// How unknown values are looked up: a reference's current value, if known.
pub trait Lookup {
    fn value(&self, r: &Ref) -> Option<String>;
}

/// A string the plan may not know yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Resolved {
    Known(String),
    Unknown(Template),
}

impl Resolved {
    /// Joins `parts`, resolving each reference through `lookup`; known when
    /// every reference is.
    pub fn from_parts(parts: Vec<Part>, lookup: &dyn Lookup) -> Resolved {
        let mut out: Vec<Part> = Vec::new();
        for p in parts {
            let p = match p {
                Part::Ref(r) => match lookup.value(&r) {
                    Some(v) => Part::Lit(v),
                    None => Part::Ref(r),
                },
                lit => lit,
            };
            match (out.last_mut(), p) {
                (Some(Part::Lit(prev)), Part::Lit(s)) => prev.push_str(&s),
                (_, p) => out.push(p),
            }
        }
        match out.as_slice() {
            [] => Resolved::Known(String::new()),
            [Part::Lit(s)] => Resolved::Known(s.clone()),
            _ => Resolved::Unknown(Template(out)),
        }
    }

    /// The value of one reference.
    pub fn of_ref(r: Ref, lookup: &dyn Lookup) -> Resolved {
        Resolved::from_parts(vec![Part::Ref(r)], lookup)
    }

    /// Resolves what `lookup` knows now.
    pub fn fill(&self, lookup: &dyn Lookup) -> Resolved {
        match self {
            Resolved::Known(_) => self.clone(),
            Resolved::Unknown(t) => Resolved::from_parts(t.0.clone(), lookup),
        }
    }

    pub fn known(&self) -> Option<&str> {
        match self {
            Resolved::Known(s) => Some(s),
            Resolved::Unknown(_) => None,
        }
    }

    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            Resolved::Known(_) => vec![],
            Resolved::Unknown(t) => t.refs().collect(),
        }
    }
}

impl From<&str> for Resolved {
    fn from(s: &str) -> Self {
        Resolved::Known(s.to_string())
    }
}

/// A managed field's value as the planner compares and the renderer shows
/// it: JSON, except that any leaf may be unknown.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Val {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    List(Vec<Val>),
    Map(BTreeMap<String, Val>),
    Unknown(Template),
}

impl Val {
    pub fn has_unknown(&self) -> bool {
        match self {
            Val::Unknown(_) => true,
            Val::List(l) => l.iter().any(Val::has_unknown),
            Val::Map(m) => m.values().any(Val::has_unknown),
            Val::Null | Val::Bool(_) | Val::Number(_) | Val::Str(_) => false,
        }
    }

    /// The JSON value, if nothing in it is unknown.
    pub fn to_json(&self) -> Option<Value> {
        Some(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Number(n) => Value::Number(n.clone()),
            Val::Str(s) => Value::String(s.clone()),
            Val::List(l) => Value::Array(l.iter().map(Val::to_json).collect::<Option<_>>()?),
            Val::Map(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| Some((k.clone(), v.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
            Val::Unknown(_) => return None,
        })
    }

    /// Terraform's JSON plan shape: the value with unknown leaves as `null`,
    /// and a mask of the same shape that is `true` exactly where the value
    /// is unknown (`false` for a wholly known value).
    pub fn json_with_unknown_mask(&self) -> (Value, Value) {
        match self {
            Val::Unknown(_) => (Value::Null, Value::Bool(true)),
            Val::List(l) if self.has_unknown() => {
                let (v, m): (Vec<_>, Vec<_>) = l.iter().map(Val::json_with_unknown_mask).unzip();
                (Value::Array(v), Value::Array(m))
            }
            Val::Map(map) if self.has_unknown() => {
                let mut v = serde_json::Map::new();
                let mut m = serde_json::Map::new();
                for (k, x) in map {
                    let (xv, xm) = x.json_with_unknown_mask();
                    v.insert(k.clone(), xv);
                    if xm != Value::Bool(false) {
                        m.insert(k.clone(), xm);
                    }
                }
                (Value::Object(v), Value::Object(m))
            }
            known => (known.to_json().unwrap_or(Value::Null), Value::Bool(false)),
        }
    }

    /// Resolves what `lookup` knows now.
    pub fn fill(&self, lookup: &dyn Lookup) -> Val {
        match self {
            Val::Unknown(t) => Resolved::from_parts(t.0.clone(), lookup).into(),
            Val::List(l) => Val::List(l.iter().map(|v| v.fill(lookup)).collect()),
            Val::Map(m) => Val::Map(m.iter().map(|(k, v)| (k.clone(), v.fill(lookup))).collect()),
            other => other.clone(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_empty_or_null(&self) -> bool {
        match self {
            Val::Null => true,
            Val::Str(s) => s.is_empty(),
            _ => false,
        }
    }
}

impl From<&Value> for Val {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Number(n.clone()),
            Value::String(s) => Val::Str(s.clone()),
            Value::Array(a) => Val::List(a.iter().map(Val::from).collect()),
            Value::Object(o) => Val::Map(o.iter().map(|(k, v)| (k.clone(), v.into())).collect()),
        }
    }
}

impl From<Value> for Val {
    fn from(v: Value) -> Self {
        (&v).into()
    }
}

impl From<Resolved> for Val {
    fn from(r: Resolved) -> Self {
        match r {
            Resolved::Known(s) => Val::Str(s),
            Resolved::Unknown(t) => Val::Unknown(t),
        }
    }
}

impl From<&Resolved> for Val {
    fn from(r: &Resolved) -> Self {
        r.clone().into()
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.to_string())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Str(s)
    }
}

impl From<&String> for Val {
    fn from(s: &String) -> Self {
        Val::Str(s.clone())
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Val::Bool(b)
    }
}

impl From<i32> for Val {
    fn from(n: i32) -> Self {
        Val::Number(n.into())
    }
}

impl<V: Into<Val>> From<BTreeMap<String, V>> for Val {
    fn from(m: BTreeMap<String, V>) -> Self {
        Val::Map(m.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Known(BTreeMap<Ref, String>);
    impl Lookup for Known {
        fn value(&self, r: &Ref) -> Option<String> {
            self.0.get(r).cloned()
        }
    }

    fn gw(attr: Attr) -> Ref {
        Ref {
            addr: Address::Gateway("main".into()),
            attr,
        }
    }

    #[test]
    fn templates_resolve_when_their_references_are_known() {
        let nothing = Known(BTreeMap::new());
        let parts = vec![
            Part::Lit("https://".into()),
            Part::Ref(gw(Attr::Id)),
            Part::Lit(".example/".into()),
        ];
        let r = Resolved::from_parts(parts, &nothing);
        assert_eq!(r.known(), None);
        assert_eq!(r.refs(), vec![&gw(Attr::Id)]);
        let now = Known([(gw(Attr::Id), "gw-1".to_string())].into());
        assert_eq!(
            r.fill(&now),
            Resolved::Known("https://gw-1.example/".into())
        );
        assert_eq!(
            Resolved::from_parts(vec![Part::Lit("a".into()), Part::Lit("b".into())], &nothing),
            Resolved::Known("ab".into())
        );
    }

    #[test]
    fn text_that_looks_like_a_placeholder_is_just_text() {
        let v = Val::from("(known after apply)");
        assert!(!v.has_unknown());
        assert_eq!(v.to_json(), Some(json!("(known after apply)")));
    }

    #[test]
    fn unknown_mask_has_the_value_s_shape() {
        let unknown = Val::Unknown(Template(vec![Part::Ref(gw(Attr::Arn))]));
        let v = Val::Map(
            [
                ("a".to_string(), Val::from("x")),
                (
                    "r".to_string(),
                    Val::List(vec![Val::from("known"), unknown.clone()]),
                ),
            ]
            .into(),
        );
        assert!(v.has_unknown());
        assert_eq!(v.to_json(), None);
        let (value, mask) = v.json_with_unknown_mask();
        assert_eq!(value, json!({"a": "x", "r": ["known", null]}));
        assert_eq!(mask, json!({"r": [false, true]}));
        assert_eq!(
            Val::from("k").json_with_unknown_mask(),
            (json!("k"), json!(false))
        );
        let now = Known([(gw(Attr::Arn), "arn:gw".to_string())].into());
        assert_eq!(
            v.fill(&now).to_json(),
            Some(json!({"a": "x", "r": ["known", "arn:gw"]}))
        );
    }
}
