//! Tool schemas: the JSON-Schema subset of the spec <-> AgentCore's
//! `SchemaDefinition` / `ToolDefinition`, both ways, so a schema read back
//! equals what the user wrote.

use std::collections::HashMap;

use anyhow::{Result, anyhow, bail};
use aws_sdk_bedrockagentcorecontrol::types::{SchemaDefinition, SchemaType, ToolDefinition};
use serde_json::{Map, Value};

use crate::model::ToolDef;

/// The JSON-Schema keywords AgentCore's `SchemaDefinition` can hold.
const SCHEMA_KEYS: [&str; 5] = ["type", "properties", "required", "items", "description"];

pub(crate) fn json_to_schema(v: &Value) -> Result<SchemaDefinition> {
    let obj = v
        .as_object()
        .ok_or_else(|| anyhow!("a tool schema must be a JSON object, not {v}"))?;
    if let Some(k) = obj.keys().find(|k| !SCHEMA_KEYS.contains(&k.as_str())) {
        bail!(
            "unsupported JSON-Schema keyword `{k}` (AgentCore tool schemas support only {})",
            SCHEMA_KEYS.join(", ")
        );
    }
    let t = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("a tool schema needs a string `type`"))?;
    let ty = SchemaType::try_parse(t).map_err(|_| anyhow!("unsupported schema type `{t}`"))?;
    let mut b = SchemaDefinition::builder().r#type(ty);
    if let Some(d) = obj.get("description") {
        b = b.description(
            d.as_str()
                .ok_or_else(|| anyhow!("schema `description` must be a string"))?,
        );
    }
    if let Some(p) = obj.get("properties") {
        let p = p
            .as_object()
            .ok_or_else(|| anyhow!("schema `properties` must be an object"))?;
        let props = p
            .iter()
            .map(|(k, sub)| Ok((k.clone(), json_to_schema(sub)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        b = b.set_properties(Some(props));
    }
    if let Some(r) = obj.get("required") {
        let r = r
            .as_array()
            .ok_or_else(|| anyhow!("schema `required` must be an array"))?;
        let names = r
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("schema `required` entries must be strings"))
            })
            .collect::<Result<Vec<_>>>()?;
        b = b.set_required(Some(names));
    }
    if let Some(i) = obj.get("items") {
        b = b.items(json_to_schema(i)?);
    }
    Ok(b.build()?)
}

/// The inverse of [`json_to_schema`]: only the keys present, so a schema
/// read back equals the user's JSON.
pub(crate) fn schema_to_json(s: &SchemaDefinition) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(s.r#type.as_str().to_string()));
    if let Some(d) = &s.description {
        m.insert("description".into(), Value::String(d.clone()));
    }
    if let Some(p) = &s.properties {
        // The SDK keeps properties in a HashMap: sorted, so that the same
        // schema reads back the same every time.
        let sorted: std::collections::BTreeMap<&String, &SchemaDefinition> = p.iter().collect();
        m.insert(
            "properties".into(),
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), schema_to_json(v)))
                    .collect(),
            ),
        );
    }
    if let Some(r) = &s.required {
        m.insert(
            "required".into(),
            Value::Array(r.iter().cloned().map(Value::String).collect()),
        );
    }
    if let Some(i) = &s.items {
        m.insert("items".into(), schema_to_json(i));
    }
    Value::Object(m)
}

pub(super) fn tool_definition(t: &ToolDef) -> Result<ToolDefinition> {
    let input = json_to_schema(&t.input)
        .map_err(|e| e.context(format!("input schema of tool {}", t.name)))?;
    let output = t
        .output
        .as_deref()
        .map(json_to_schema)
        .transpose()
        .map_err(|e| e.context(format!("output schema of tool {}", t.name)))?;
    Ok(ToolDefinition::builder()
        .name(&t.name)
        .description(&t.description)
        .input_schema(input)
        .set_output_schema(output)
        .build()?)
}

pub(super) fn tool_def(t: &ToolDefinition) -> ToolDef {
    ToolDef {
        name: t.name().to_string(),
        description: t.description().to_string(),
        input: t
            .input_schema()
            .map(schema_to_json)
            .unwrap_or(Value::Null)
            .into(),
        output: t.output_schema().map(|s| schema_to_json(s).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_round_trip() {
        let v = json!({
            "type": "object",
            "description": "args",
            "properties": {
                "a": {"type": "number", "description": "first"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "nested": {"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]}
            },
            "required": ["a", "tags"]
        });
        assert_eq!(schema_to_json(&json_to_schema(&v).unwrap()), v);
        assert_eq!(
            schema_to_json(&json_to_schema(&json!({"type": "integer"})).unwrap()),
            json!({"type": "integer"})
        );
    }

    #[test]
    fn schema_rejects_what_agentcore_cannot_hold() {
        let e = json_to_schema(&json!({"type": "string", "enum": ["a"]})).unwrap_err();
        assert!(
            e.to_string()
                .contains("unsupported JSON-Schema keyword `enum`"),
            "{e}"
        );
        assert!(json_to_schema(&json!({"type": "null"})).is_err());
        assert!(json_to_schema(&json!({"type": ["string", "null"]})).is_err());
        assert!(json_to_schema(&json!({"type": "object", "required": [1]})).is_err());
    }
}
