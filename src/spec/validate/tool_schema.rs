//! Tool input and output schemas beyond their shape: keywords that do not
//! apply to the declared type, arrays without `items`, and `required`
//! properties that are not declared.

use serde_json::Value;

use super::Checker;
use crate::diag::{Diagnostic, did_you_mean};
use crate::spec::yaml::escape;

impl Checker<'_> {
    pub(super) fn tool_schema(&mut self, s: &Value, p: &str) {
        let ty = s.get("type").and_then(Value::as_str).unwrap_or("");
        let props = s.get("properties").and_then(Value::as_object);
        if props.is_some() && ty != "object" {
            self.diags.push(
                Diagnostic::new(
                    format!("`properties` only applies to `type: object`, not `{ty}`"),
                    self.key_span(&format!("{p}/properties")),
                )
                .label("ignored for this type"),
            );
        }
        if s.get("items").is_some() && ty != "array" {
            self.diags.push(
                Diagnostic::new(
                    format!("`items` only applies to `type: array`, not `{ty}`"),
                    self.key_span(&format!("{p}/items")),
                )
                .label("ignored for this type"),
            );
        }
        if ty == "array" && s.get("items").is_none() {
            self.diags.push(
                Diagnostic::new("an array schema needs `items`", self.key_span(p))
                    .label("`items` missing")
                    .help("describe the elements, e.g. `items: {type: string}`"),
            );
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for (i, r) in req.iter().enumerate() {
                let name = r.as_str().unwrap_or_default();
                if !props.is_some_and(|o| o.contains_key(name)) {
                    let known: Vec<&str> = props
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let mut d = Diagnostic::new(
                        format!("required property `{name}` is not declared in `properties`"),
                        self.value_span(&format!("{p}/required/{i}")),
                    )
                    .label("not in `properties`");
                    if let Some(x) = did_you_mean(name, known) {
                        d = d.help(format!("did you mean `{x}`?"));
                    }
                    self.diags.push(d);
                }
            }
        }
        if let Some(props) = props {
            for (k, sub) in props {
                self.tool_schema(sub, &format!("{p}/properties/{}", escape(k)));
            }
        }
        if let Some(items) = s.get("items") {
            self.tool_schema(items, &format!("{p}/items"));
        }
    }
}
