//! Derived IAM documents: trust policies and least-privilege inline policies
//! for the three roles agentform creates. Pure functions of the spec's
//! resources and the account; shown in the plan like any other field.
//! A document that names resources not created yet holds unknown values.

use serde_json::{Value, json};

use crate::model::{Account, Resolved, Val};

fn doc(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// A policy document of `statements`.
pub fn document(statements: Vec<Value>) -> Value {
    doc(statements)
}

/// The statements of a document made here.
pub fn statements(d: Value) -> Vec<Value> {
    match d {
        Value::Object(mut o) => match o.remove("Statement") {
            Some(Value::Array(s)) => s,
            _ => vec![],
        },
        _ => vec![],
    }
}

/// Lambda may assume the function's execution role.
pub fn lambda_trust() -> Value {
    doc(vec![json!({
        "Effect": "Allow",
        "Principal": { "Service": "lambda.amazonaws.com" },
        "Action": "sts:AssumeRole"
    })])
}

/// AgentCore may assume the role, only on behalf of this account's resources
/// of one type (`gateway` or `runtime`), guarding against confused deputies.
pub fn agentcore_trust(a: &Account, resource_type: &str) -> Value {
    doc(vec![json!({
        "Sid": "AssumeRolePolicy",
        "Effect": "Allow",
        "Principal": { "Service": "bedrock-agentcore.amazonaws.com" },
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": { "aws:SourceAccount": a.id },
            "ArnLike": { "aws:SourceArn": format!("arn:{}:bedrock-agentcore:{}:{}:{resource_type}/*", a.partition, a.region, a.id) }
        }
    })])
}

/// `trust` with one more statement that lets `principals` assume the role
/// (`verify_principals`: checking a runtime as its own role). Unchanged
/// when there are none. An account id is written as its root ARN, the form
/// IAM stores (and reads back) for it.
pub fn with_verify_principals(a: &Account, mut trust: Value, principals: &[String]) -> Value {
    if principals.is_empty() {
        return trust;
    }
    let principals: Vec<String> = principals
        .iter()
        .map(|p| {
            if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
                format!("arn:{}:iam::{p}:root", a.partition)
            } else {
                p.clone()
            }
        })
        .collect();
    let aws: Value = match principals.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    if let Some(Value::Array(statements)) = trust.get_mut("Statement") {
        statements.push(json!({
            "Sid": "AgentformVerify",
            "Effect": "Allow",
            "Principal": { "AWS": aws },
            "Action": "sts:AssumeRole"
        }));
    }
    trust
}

/// Basic logging for one function, to its own log group only.
pub fn lambda_logs(a: &Account, function_name: &str) -> Value {
    let group = format!(
        "arn:{}:logs:{}:{}:log-group:/aws/lambda/{function_name}",
        a.partition, a.region, a.id
    );
    doc(vec![
        json!({ "Sid": "CreateLogGroup", "Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": format!("{group}:*") }),
        json!({ "Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": format!("{group}:log-stream:*") }),
    ])
}

/// The gateway may invoke exactly its targets' functions (bare and
/// qualified ARNs), in this account.
pub fn gateway_invoke(a: &Account, function_arns: &[String]) -> Value {
    let mut resources: Vec<String> = Vec::new();
    for arn in function_arns {
        resources.push(arn.clone());
        resources.push(format!("{arn}:*"));
    }
    resources.sort();
    resources.dedup();
    doc(vec![json!({
        "Sid": "InvokeTargetFunctions",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": resources,
        "Condition": { "StringEquals": { "aws:ResourceAccount": a.id } }
    })])
}

/// What a gateway needs to call its targets with credentials from
/// AgentCore Identity: its workload access token, then the API keys and
/// OAuth2 tokens of exactly the providers its targets name, and the
/// secrets AgentCore keeps for them (`bedrock-agentcore-identity!default/
/// apikey|oauth2/<name>`, with Secrets Manager's random suffix).
pub fn gateway_credentials(
    a: &Account,
    gateway_name: &str,
    api_keys: &[String],
    oauth: &[String],
) -> Vec<Value> {
    let (p, r, id) = (&a.partition, &a.region, &a.id);
    let directory =
        format!("arn:{p}:bedrock-agentcore:{r}:{id}:workload-identity-directory/default");
    let vault = format!("arn:{p}:bedrock-agentcore:{r}:{id}:token-vault/default");
    let secret = |kind: &str, arn: &String| {
        let name = arn.rsplit('/').next().unwrap_or_default();
        format!(
            "arn:{p}:secretsmanager:{r}:{id}:secret:bedrock-agentcore-identity!default/{kind}/{name}-*"
        )
    };
    let mut s = vec![json!({
        "Sid": "WorkloadAccessToken",
        "Effect": "Allow",
        "Action": "bedrock-agentcore:GetWorkloadAccessToken",
        "Resource": [directory.clone(), format!("{directory}/workload-identity/{gateway_name}-*")]
    })];
    let mut secrets = Vec::new();
    for (sid, action, arns, kind) in [
        (
            "ApiKeys",
            "bedrock-agentcore:GetResourceApiKey",
            api_keys,
            "apikey",
        ),
        (
            "OAuth2Tokens",
            "bedrock-agentcore:GetResourceOauth2Token",
            oauth,
            "oauth2",
        ),
    ] {
        if arns.is_empty() {
            continue;
        }
        let mut res = vec![
            vault.clone(),
            directory.clone(),
            format!("{directory}/workload-identity/{gateway_name}-*"),
        ];
        res.extend(arns.iter().cloned());
        s.push(json!({ "Sid": sid, "Effect": "Allow", "Action": action, "Resource": res }));
        secrets.extend(arns.iter().map(|a| secret(kind, a)));
    }
    secrets.sort();
    secrets.dedup();
    s.push(json!({ "Sid": "CredentialSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secrets }));
    s
}

/// The model a system-defined (cross-Region) inference profile id routes
/// to: the id less its geography, `us.anthropic.claude-x-v1:0` ->
/// `anthropic.claude-x-v1:0`. `None` for a model id, `<provider>.<model>`
/// (one dot before the version; a profile's geography adds the second).
fn profile_model(id: &str) -> Option<&str> {
    let name = id.split(':').next().unwrap_or(id);
    if name.matches('.').count() >= 2 {
        id.split_once('.').map(|(_, model)| model)
    } else {
        None
    }
}

/// What `bedrock:InvokeModel` is granted on for a runtime's `models`:
/// - a model id: that foundation model in the stack's region;
/// - a cross-Region inference profile id (`us.`, `eu.`, `global.` ...): the
///   profile in the stack's region and account, and its model in every
///   region, since the profile routes requests to regions AWS chooses (and
///   a global profile's model ARN has no region at all);
/// - an ARN: itself, plus, for a system-defined `inference-profile/`, its
///   model in every region as above. An application inference profile's
///   models cannot be read from its ARN: the spec lists them too.
pub fn model_resources(a: &Account, models: &[String]) -> Vec<String> {
    let (p, r, id) = (&a.partition, &a.region, &a.id);
    let mut out = Vec::new();
    for m in models {
        if m.starts_with("arn:") {
            out.push(m.clone());
            let partition = m.split(':').nth(1).unwrap_or(p);
            if let Some(model) = m
                .split_once(":inference-profile/")
                .and_then(|(_, profile)| profile_model(profile))
            {
                out.push(format!(
                    "arn:{partition}:bedrock:*::foundation-model/{model}"
                ));
            }
        } else if let Some(model) = profile_model(m) {
            out.push(format!("arn:{p}:bedrock:{r}:{id}:inference-profile/{m}"));
            out.push(format!("arn:{p}:bedrock:*::foundation-model/{model}"));
        } else {
            out.push(format!("arn:{p}:bedrock:{r}::foundation-model/{m}"));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Runtime execution role: pull its image, write logs and traces, read its
/// workload token, invoke models (exactly `models` when the spec lists them,
/// none for an empty list), and invoke exactly the listed gateways.
pub fn runtime_execution(
    a: &Account,
    runtime_name: &str,
    ecr_repository_arn: Option<&str>,
    models: Option<&[String]>,
    gateway_arns: &[Resolved],
    memory_arns: &[Resolved],
) -> Val {
    let (p, r, id) = (&a.partition, &a.region, &a.id);
    let log_group = format!("arn:{p}:logs:{r}:{id}:log-group:/aws/bedrock-agentcore/runtimes/*");
    let mut s = Vec::new();
    if let Some(repo) = ecr_repository_arn {
        s.push(json!({ "Sid": "ECRImageAccess", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": repo }));
        s.push(json!({ "Sid": "ECRTokenAccess", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*" }));
    }
    s.push(json!({ "Sid": "LogGroups", "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:DescribeLogStreams"], "Resource": log_group }));
    s.push(json!({ "Sid": "DescribeLogGroups", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": format!("arn:{p}:logs:{r}:{id}:log-group:*") }));
    s.push(json!({ "Sid": "LogStreams", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": format!("{log_group}:log-stream:*") }));
    s.push(json!({ "Sid": "XRay", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], "Resource": "*" }));
    s.push(json!({ "Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*", "Condition": { "StringEquals": { "cloudwatch:namespace": "bedrock-agentcore" } } }));
    s.push(json!({
        "Sid": "WorkloadAccessToken",
        "Effect": "Allow",
        "Action": ["bedrock-agentcore:GetWorkloadAccessToken", "bedrock-agentcore:GetWorkloadAccessTokenForJWT"],
        "Resource": [
            format!("arn:{p}:bedrock-agentcore:{r}:{id}:workload-identity-directory/default"),
            format!("arn:{p}:bedrock-agentcore:{r}:{id}:workload-identity-directory/default/workload-identity/{runtime_name}-*")
        ]
    }));
    let model_arns = match models {
        // No `models` in the spec: any foundation model, and any Bedrock
        // resource of the account in the region (inference profiles,
        // provisioned and imported models).
        None => vec![
            format!("arn:{p}:bedrock:*::foundation-model/*"),
            format!("arn:{p}:bedrock:{r}:{id}:*"),
        ],
        Some(models) => model_resources(a, models),
    };
    if !model_arns.is_empty() {
        s.push(json!({
            "Sid": "BedrockModelInvocation",
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            "Resource": model_arns
        }));
    }
    let mut document = Val::from(doc(s));
    on_resources(
        &mut document,
        json!({ "Sid": "InvokeGateways", "Effect": "Allow", "Action": "bedrock-agentcore:InvokeGateway" }),
        gateway_arns,
    );
    on_resources(
        &mut document,
        json!({ "Sid": "MemoryAccess", "Effect": "Allow", "Action": MEMORY_ACTIONS }),
        memory_arns,
    );
    document
}

/// What a runtime needs to fetch OAuth2 tokens from AgentCore Identity
/// credential providers (those of its Cognito clients): the token on
/// exactly those providers through its own workload identity, and the
/// secrets AgentCore keeps for them. Nothing when there are none.
pub fn runtime_oauth_tokens(
    document: &mut Val,
    a: &Account,
    runtime_name: &str,
    provider_arns: &[String],
) {
    if provider_arns.is_empty() {
        return;
    }
    let (p, r, id) = (&a.partition, &a.region, &a.id);
    let directory =
        format!("arn:{p}:bedrock-agentcore:{r}:{id}:workload-identity-directory/default");
    let mut resources = vec![
        format!("arn:{p}:bedrock-agentcore:{r}:{id}:token-vault/default"),
        directory.clone(),
        format!("{directory}/workload-identity/{runtime_name}-*"),
    ];
    resources.extend(provider_arns.iter().cloned());
    let secrets: Vec<Resolved> = provider_arns
        .iter()
        .map(|arn| {
            let name = arn.rsplit('/').next().unwrap_or_default();
            Resolved::Known(format!(
                "arn:{p}:secretsmanager:{r}:{id}:secret:bedrock-agentcore-identity!default/oauth2/{name}-*"
            ))
        })
        .collect();
    let resources: Vec<Resolved> = resources.into_iter().map(Resolved::Known).collect();
    on_resources(
        document,
        json!({ "Sid": "OAuth2Tokens", "Effect": "Allow", "Action": "bedrock-agentcore:GetResourceOauth2Token" }),
        &resources,
    );
    on_resources(
        document,
        json!({ "Sid": "OAuth2Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue" }),
        &secrets,
    );
}

/// What a gateway needs for its policy engine to authorize tool calls:
/// read the engine, and have it evaluate requests (`AuthorizeAction` for
/// `tools/call`, `PartiallyAuthorizeActions` to filter `tools/list`),
/// which IAM checks against both the engine and the gateway.
pub fn gateway_policy_engine(
    document: &mut Val,
    a: &Account,
    gateway_name: &str,
    engine_arn: &Resolved,
) {
    let (p, r, id) = (&a.partition, &a.region, &a.id);
    let gateway = format!("arn:{p}:bedrock-agentcore:{r}:{id}:gateway/{gateway_name}-*");
    on_resources(
        document,
        json!({ "Sid": "PolicyEngineRead", "Effect": "Allow", "Action": "bedrock-agentcore:GetPolicyEngine" }),
        std::slice::from_ref(engine_arn),
    );
    on_resources(
        document,
        json!({ "Sid": "PolicyEngineAuthorize", "Effect": "Allow", "Action": ["bedrock-agentcore:AuthorizeAction", "bedrock-agentcore:PartiallyAuthorizeActions"] }),
        &[engine_arn.clone(), Resolved::Known(gateway)],
    );
}

/// What an agent does with a memory it refers to: write and read its
/// events, list its actors and sessions, retrieve and read its records.
pub const MEMORY_ACTIONS: [&str; 9] = [
    "bedrock-agentcore:CreateEvent",
    "bedrock-agentcore:GetEvent",
    "bedrock-agentcore:ListEvents",
    "bedrock-agentcore:DeleteEvent",
    "bedrock-agentcore:ListActors",
    "bedrock-agentcore:ListSessions",
    "bedrock-agentcore:GetMemoryRecord",
    "bedrock-agentcore:ListMemoryRecords",
    "bedrock-agentcore:RetrieveMemoryRecords",
];

/// Adds `statement` with `Resource` = `arns` (unknown until the resources
/// exist) to `document`, when there are any.
fn on_resources(document: &mut Val, statement: serde_json::Value, arns: &[Resolved]) {
    if arns.is_empty() {
        return;
    }
    let mut statement = Val::from(statement);
    if let Val::Map(m) = &mut statement {
        m.insert(
            "Resource".into(),
            Val::List(arns.iter().map(Val::from).collect()),
        );
    }
    if let Val::Map(d) = document
        && let Some(Val::List(statements)) = d.get_mut("Statement")
    {
        statements.push(statement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            id: "123456789012".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
        }
    }

    fn resources(models: &[&str]) -> Vec<String> {
        let models: Vec<String> = models.iter().map(|m| m.to_string()).collect();
        model_resources(&account(), &models)
    }

    #[test]
    fn a_model_id_is_that_model_in_the_region() {
        assert_eq!(
            resources(&["anthropic.claude-3-haiku-20240307-v1:0"]),
            ["arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]
        );
        assert_eq!(
            resources(&["amazon.titan-embed-text-v2:0:8k"]),
            ["arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0:8k"]
        );
    }

    #[test]
    fn an_inference_profile_id_is_the_profile_and_its_model_anywhere() {
        for geo in ["us", "eu", "apac", "us-gov", "global"] {
            let profile = format!("{geo}.anthropic.claude-haiku-4-5-20251001-v1:0");
            assert_eq!(
                resources(&[profile.as_str()]),
                [
                    "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"
                        .to_string(),
                    format!("arn:aws:bedrock:eu-west-1:123456789012:inference-profile/{profile}"),
                ],
                "{geo}"
            );
        }
    }

    #[test]
    fn arns_are_kept_and_a_system_profile_arn_brings_its_model() {
        assert_eq!(
            resources(&[
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0",
                "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123",
                "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            ]),
            [
                "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0",
                "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123",
                "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0",
            ]
        );
    }

    #[test]
    fn the_same_model_twice_is_granted_once() {
        assert_eq!(
            resources(&["us.amazon.nova-pro-v1:0", "eu.amazon.nova-pro-v1:0"]).len(),
            3
        );
    }

    fn model_statement(models: Option<&[String]>) -> Option<serde_json::Value> {
        let doc = runtime_execution(&account(), "demo_agent", None, models, &[], &[])
            .to_json()
            .expect("known");
        doc["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .find(|s| s["Sid"] == "BedrockModelInvocation")
            .cloned()
    }

    #[test]
    fn models_narrow_the_grant_and_none_drop_it() {
        let broad = model_statement(None).expect("a model statement");
        assert_eq!(
            broad["Resource"],
            json!([
                "arn:aws:bedrock:*::foundation-model/*",
                "arn:aws:bedrock:eu-west-1:123456789012:*"
            ])
        );
        let one = vec!["anthropic.claude-3-haiku-20240307-v1:0".to_string()];
        let narrow = model_statement(Some(&one)).expect("a model statement");
        assert_eq!(
            narrow["Resource"],
            json!([
                "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
            ])
        );
        assert_eq!(model_statement(Some(&[])), None);
    }
}
