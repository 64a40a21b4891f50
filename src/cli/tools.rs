//! `agentform tools`: the tools a gateway lists, as an agent sees them,
//! over a SigV4-signed MCP session (as the caller, or `--as runtime.NAME`
//! as that runtime's execution role); `tools call` runs one. `apply
//! --verify` ([`verify`]) proves after an apply that each runtime can list
//! the tools of the gateways it uses.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use console::style;
use serde_json::{Value, json};

use super::{Ctx, FAILURE, OK};
use crate::aws::mcp::{Cause, GatewayError, Session};
use crate::aws::{Aws, RuntimeCredentials};
use crate::model::{Address, Known, RoleOwner};
use crate::spec::{self, AuthorizerSpec, LoadedSpec, Spec};

/// How long a denial is retried when the spec grants the access (IAM
/// takes a few seconds to apply a new or changed policy or trust).
const PROPAGATION: Duration = Duration::from_secs(30);

/// What `tools` does.
pub(super) enum Action {
    List,
    Call { name: String, args: String },
}

pub(super) struct Options {
    pub gateway: Option<String>,
    pub as_runtime: Option<String>,
    pub json: bool,
}

pub(super) async fn exec(ctx: &Ctx, action: Action, opts: Options) -> Result<i32> {
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let gateway = match &action {
        Action::Call { name, .. } => gateway_of_tool(&l, opts.gateway.as_deref(), name)?,
        Action::List => only_gateway(&l.spec, opts.gateway.as_deref())?,
    };
    let runtime = opts.as_runtime.as_deref().map(runtime_key).transpose()?;
    if let Some(r) = &runtime
        && !l.spec.runtimes.contains_key(r)
    {
        bail!(
            "the spec has no runtime `{r}`{}",
            choices(l.spec.runtimes.keys())
        );
    }
    let aws = ctx.aws(&l).await?;
    let account = aws.account().await?;
    let observed = aws.observe(&account, &l.spec.project, &[]).await?;
    let known = crate::plan::known_ids(&observed);
    let url = gateway_url(&known, &gateway)?;
    let who = signer(&l.spec, &known, runtime.as_deref())?;
    let credentials = aws.credentials_for(&who).await?;
    let session = match aws.gateway_session(&url, credentials).await {
        Ok(s) => s,
        Err(e) => return Err(explain(&e, &gateway, &who, &aws, &known)),
    };
    let result = match action {
        Action::List => list(&session, &gateway, &url, &who, opts.json).await,
        Action::Call { name, args } => call(&session, &name, &args, opts.json).await,
    };
    session.close().await;
    result.map_err(|e| match e.downcast::<GatewayError>() {
        Ok(g) => explain(&g, &gateway, &who, &aws, &known),
        Err(e) => e,
    })
}

async fn list(
    session: &Session,
    gateway: &str,
    url: &str,
    who: &RuntimeCredentials,
    json: bool,
) -> Result<i32> {
    let tools = session.tools().await?;
    if json {
        let doc = json!({
            "gateway": gateway,
            "url": url,
            "as": as_text(who),
            "tools": tools.iter().map(|t| json!({
                "name": t.name,
                "description": t.description,
                "input_schema": &*t.input_schema,
            })).collect::<Vec<_>>(),
        });
        println!("{doc:#}");
        return Ok(OK);
    }
    println!(
        "gateway {gateway}: {} tool{} ({})",
        tools.len(),
        if tools.len() == 1 { "" } else { "s" },
        as_text(who)
    );
    for t in &tools {
        println!("  {}", style(&t.name).bold());
        if let Some(d) = t.description.as_deref().filter(|d| !d.is_empty()) {
            println!("      {d}");
        }
        let summary = input_summary(&Value::Object((*t.input_schema).clone()));
        if !summary.is_empty() {
            println!("      input: {summary}");
        }
    }
    Ok(OK)
}

async fn call(session: &Session, name: &str, args: &str, json: bool) -> Result<i32> {
    let arguments = crate::aws::mcp::parse_arguments(args)?;
    let result = session.call(name, arguments).await?;
    let failed = result.is_error == Some(true);
    if json {
        println!("{:#}", serde_json::to_value(&result)?);
    } else {
        for block in &result.content {
            match block.as_text() {
                Some(t) if failed => eprintln!("{} {}", style("error:").red().bold(), t.text),
                Some(t) => println!("{}", t.text),
                None => println!("{}", serde_json::to_string(block)?),
            }
        }
        if let Some(s) = &result.structured_content
            && result.content.is_empty()
        {
            println!("{s:#}");
        }
    }
    Ok(if failed { FAILURE } else { OK })
}

fn as_text(who: &RuntimeCredentials) -> String {
    match who {
        RuntimeCredentials::Caller => "as the caller".into(),
        RuntimeCredentials::Role { runtime, .. } => format!("as runtime {runtime}'s role"),
    }
}

/// `a (number, required), b (number)`: the top-level properties, the
/// required ones first in the schema's order, then the rest by name (a
/// gateway does not keep the order of an object's keys).
fn input_summary(schema: &Value) -> String {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return String::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let ty = |k: &str| {
        props[k]
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("any")
    };
    let mut out: Vec<String> = required
        .iter()
        .filter(|k| props.contains_key(**k))
        .map(|k| format!("{k} ({}, required)", ty(k)))
        .collect();
    let mut rest: Vec<&String> = props
        .keys()
        .filter(|k| !required.contains(&k.as_str()))
        .collect();
    rest.sort();
    out.extend(rest.into_iter().map(|k| format!("{k} ({})", ty(k))));
    out.join(", ")
}

fn choices<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    let keys: Vec<&str> = keys.map(String::as_str).collect();
    if keys.is_empty() {
        String::new()
    } else {
        format!(" (it has: {})", keys.join(", "))
    }
}

/// `runtime.NAME` -> `NAME`.
fn runtime_key(s: &str) -> Result<String> {
    match s.split_once('.') {
        Some(("runtime" | "runtimes", k)) if !k.is_empty() => Ok(k.to_string()),
        _ => bail!("--as takes a runtime of the spec as `runtime.NAME`, e.g. `--as runtime.agent`"),
    }
}

fn only_gateway(spec: &Spec, asked: Option<&str>) -> Result<String> {
    if let Some(g) = asked {
        if spec.gateways.contains_key(g) {
            return Ok(g.to_string());
        }
        bail!(
            "the spec has no gateway `{g}`{}",
            choices(spec.gateways.keys())
        );
    }
    let mut keys = spec.gateways.keys();
    match (keys.next(), keys.next()) {
        (Some(g), None) => Ok(g.clone()),
        (None, _) => bail!("the spec has no gateways"),
        _ => bail!(
            "the spec has several gateways; name one{}",
            choices(spec.gateways.keys())
        ),
    }
}

/// The gateway to call `tool` on: the one asked for, the only one, or the
/// one whose target offers it.
fn gateway_of_tool(l: &LoadedSpec, asked: Option<&str>, tool: &str) -> Result<String> {
    let spec = &l.spec;
    if asked.is_some() || spec.gateways.len() <= 1 {
        return only_gateway(spec, asked);
    }
    let offering: Vec<&String> = spec
        .gateways
        .iter()
        .filter(|(_, g)| spec_tools_of(l, g).contains(tool))
        .map(|(k, _)| k)
        .collect();
    match offering.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!(
            "no gateway of the spec offers `{tool}` (tools are named TARGET___TOOL); name the gateway with --gateway{}",
            choices(spec.gateways.keys())
        ),
        _ => bail!(
            "several gateways offer `{tool}`; name one with --gateway{}",
            choices(offering.into_iter())
        ),
    }
}

/// The tools the spec gives a gateway, as MCP names.
fn spec_tools_of(l: &LoadedSpec, g: &spec::GatewaySpec) -> BTreeSet<String> {
    g.targets
        .iter()
        .flat_map(|(t, target)| {
            l.tool_names(target)
                .unwrap_or_default()
                .into_iter()
                .map(move |tool| format!("{t}___{tool}"))
        })
        .collect()
}

fn gateway_url(known: &Known, gateway: &str) -> Result<String> {
    known
        .get(&Address::Gateway(gateway.to_string()))
        .and_then(|ids| ids.url.clone())
        .ok_or_else(|| {
            anyhow!(
                "gateway {gateway} does not exist in the account yet; run `agentform apply` first"
            )
        })
}

fn signer(
    spec: &crate::spec::Spec,
    known: &Known,
    runtime: Option<&str>,
) -> Result<RuntimeCredentials> {
    let Some(r) = runtime else {
        return Ok(RuntimeCredentials::Caller);
    };
    // A role the spec brings is the runtime's, as given.
    if let Some(arn) = crate::plan::desired::own_role(spec, RoleOwner::Runtime, r) {
        return Ok(RuntimeCredentials::Role {
            runtime: r.to_string(),
            arn: arn.to_string(),
        });
    }
    let arn = known
        .get(&Address::Role(RoleOwner::Runtime, r.to_string()))
        .and_then(|ids| ids.arn.clone())
        .ok_or_else(|| {
            anyhow!("runtime {r}'s execution role does not exist yet; run `agentform apply` first")
        })?;
    Ok(RuntimeCredentials::Role {
        runtime: r.to_string(),
        arn,
    })
}

/// A gateway failure, said in the user's terms.
fn explain(
    e: &GatewayError,
    gateway: &str,
    who: &RuntimeCredentials,
    aws: &Aws,
    known: &Known,
) -> anyhow::Error {
    let arn = known
        .get(&Address::Gateway(gateway.to_string()))
        .and_then(|i| i.arn.clone())
        .unwrap_or_else(|| format!("gateway {gateway}'s ARN"));
    match e.cause() {
        Cause::BadSignature => anyhow!(
            "gateway {gateway} rejected the request's signature ({e}).\nhint: the credentials signing it are not valid: check the secret access key and session token (environment, profile) and that they have not expired, and that this machine's clock is right"
        ),
        Cause::AccessDenied => {
            let whom = match who {
                RuntimeCredentials::Caller => aws
                    .caller_arn()
                    .map(str::to_string)
                    .unwrap_or_else(|| "the caller".into()),
                RuntimeCredentials::Role { runtime, .. } => {
                    format!("runtime {runtime}'s execution role")
                }
            };
            let fix = match who {
                RuntimeCredentials::Role { runtime, .. } => format!(
                    "list the gateway in the runtime's `invoke_gateways` (runtimes.{runtime}.invoke_gateways: [{gateway}]) and apply"
                ),
                RuntimeCredentials::Caller => {
                    "grant the caller bedrock-agentcore:InvokeGateway on it".into()
                }
            };
            anyhow!(
                "access denied: {whom} may not invoke gateway {gateway} ({e}).\nhint: calling a gateway with AWS_IAM auth needs bedrock-agentcore:InvokeGateway on {arn}; {fix}"
            )
        }
        Cause::Other => anyhow!("gateway {gateway}: {e}"),
    }
}

/// Which runtime uses which gateway: the gateways it lists in
/// `invoke_gateways` (granted), and the ones its environment refers to
/// without listing them (the agent will call them, but is not granted).
pub(super) fn uses(spec: &Spec) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for (rk, r) in &spec.runtimes {
        let mut gateways: BTreeSet<(String, bool)> = r
            .invoke_gateways
            .iter()
            .map(|g| (g.clone(), true))
            .collect();
        for value in r.environment.values() {
            for seg in spec::refs::parse(value).unwrap_or_default() {
                if let spec::refs::Segment::Ref(spec::refs::Ref::Resource { kind, name, .. }, _) =
                    seg
                    && kind == "gateways"
                    && !r.invoke_gateways.contains(&name)
                {
                    gateways.insert((name, false));
                }
            }
        }
        for (g, granted) in gateways {
            let iam = spec.gateways.get(&g).is_some_and(
                |gs| matches!(&gs.authorizer, AuthorizerSpec::Named(n) if n == "aws_iam"),
            );
            if iam {
                out.push((rk.clone(), g, granted));
            }
        }
    }
    out
}

/// `apply --verify`: every runtime lists, as its own role, the tools the
/// spec gives each `aws_iam` gateway it uses. The exit code.
pub(super) async fn verify(aws: &Aws, l: &LoadedSpec, known: &Known) -> Result<i32> {
    let pairs = uses(&l.spec);
    if pairs.is_empty() {
        eprintln!("verify: no runtime uses an aws_iam gateway; nothing to check");
        return Ok(OK);
    }
    let mut failed = 0;
    for (runtime, gateway, granted) in &pairs {
        let started = Instant::now();
        match verify_one(aws, l, known, runtime, gateway, *granted).await {
            Ok(n) => eprintln!(
                "{} runtime {runtime} lists gateway {gateway}'s {n} tools as its role ({:.1}s)",
                style("verified:").green().bold(),
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "{} runtime {runtime} cannot use gateway {gateway}: {e:#}",
                    style("verify failed:").red().bold()
                );
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{} of {} runtime-gateway pairs failed verification",
            failed,
            pairs.len()
        );
        return Ok(FAILURE);
    }
    Ok(OK)
}

async fn verify_one(
    aws: &Aws,
    l: &LoadedSpec,
    known: &Known,
    runtime: &str,
    gateway: &str,
    granted: bool,
) -> Result<usize> {
    if !granted {
        bail!(
            "its environment refers to gateway {gateway}, but `invoke_gateways` does not list it, so its role may not call it.\nhint: add it: runtimes.{runtime}.invoke_gateways: [{gateway}]"
        );
    }
    let url = gateway_url(known, gateway)?;
    let who = signer(&l.spec, known, Some(runtime))?;
    let want = spec_tools_of(l, &l.spec.gateways[gateway]);
    let trusted = !l.spec.verify_principals.is_empty();
    // The spec grants the access: a denial in the first seconds after an
    // apply can be IAM still propagating the new role, trust or policy.
    let deadline = Instant::now() + PROPAGATION;
    let mut wait = Duration::from_millis(500);
    loop {
        let attempt = async {
            let credentials = aws.credentials_for(&who).await?;
            let session = aws
                .gateway_session(&url, credentials)
                .await
                .map_err(|e| explain(&e, gateway, &who, aws, known))?;
            let tools = session.tools().await;
            session.close().await;
            tools.map_err(|e| explain(&e, gateway, &who, aws, known))
        };
        match attempt.await {
            Ok(tools) => {
                let listed: BTreeSet<String> = tools.iter().map(|t| t.name.to_string()).collect();
                let missing: Vec<&String> = want.difference(&listed).collect();
                if !missing.is_empty() {
                    bail!(
                        "the gateway lists {} tools, but not {} of the spec's: {}",
                        listed.len(),
                        missing.len(),
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                return Ok(listed.len());
            }
            Err(e) if Instant::now() + wait < deadline && denied(&e, trusted) => {
                tracing::debug!("verify: {e:#}; retrying in {wait:?} (IAM propagation)");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A denial (assuming the role or calling the gateway), which IAM
/// propagation can cause for a few seconds. `trusted`: the spec has
/// `verify_principals`, so a refused AssumeRole may be a trust policy that
/// was just changed; without it, waiting cannot help.
fn denied(e: &anyhow::Error, trusted: bool) -> bool {
    let text = format!("{e:#}");
    let assume = text.contains("could not assume");
    (text.contains("access denied") || assume) && (trusted || !assume)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_summarised_with_their_types() {
        let schema = json!({
            "type": "object",
            "properties": { "a": { "type": "number" }, "name": { "type": "string" } },
            "required": ["a"]
        });
        assert_eq!(
            input_summary(&schema),
            "a (number, required), name (string)"
        );
        let reordered = json!({
            "properties": { "z": {}, "b": { "type": "number" }, "a": { "type": "number" } },
            "required": ["a", "b"]
        });
        assert_eq!(
            input_summary(&reordered),
            "a (number, required), b (number, required), z (any)"
        );
        assert_eq!(input_summary(&json!({ "type": "object" })), "");
    }

    #[test]
    fn only_denials_that_waiting_can_fix_are_retried() {
        let gateway = anyhow!("access denied: runtime a's execution role may not invoke gateway g");
        let assume = anyhow!("could not assume runtime a's execution role r: AccessDenied");
        let other = anyhow!("gateway g: HTTP 500");
        assert!(denied(&gateway, false) && denied(&gateway, true));
        assert!(
            !denied(&assume, false),
            "no verify_principals: never trusted"
        );
        assert!(denied(&assume, true), "a trust policy just changed");
        assert!(!denied(&other, true));
    }

    #[test]
    fn as_names_a_runtime() {
        assert_eq!(runtime_key("runtime.agent").unwrap(), "agent");
        assert!(runtime_key("agent").is_err());
        assert!(runtime_key("gateway.main").is_err());
    }
}
