//! Derived IAM documents: trust policies and least-privilege inline policies
//! for the three roles agentform creates. Pure functions of the spec's
//! resources and the account; shown in the plan like any other field.
//! A document that names resources not created yet holds unknown values.

use serde_json::{Value, json};

use crate::model::{Account, Resolved, Val};

fn doc(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
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

/// Runtime execution role: pull its image, write logs and traces, read its
/// workload token, invoke models, and invoke exactly the listed gateways.
pub fn runtime_execution(
    a: &Account,
    runtime_name: &str,
    ecr_repository_arn: Option<&str>,
    gateway_arns: &[Resolved],
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
    s.push(json!({
        "Sid": "BedrockModelInvocation",
        "Effect": "Allow",
        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        "Resource": [format!("arn:{p}:bedrock:*::foundation-model/*"), format!("arn:{p}:bedrock:{r}:{id}:*")]
    }));
    let mut document = Val::from(doc(s));
    if !gateway_arns.is_empty() {
        // The gateways' ARNs are unknown until they exist.
        let mut statement = Val::from(
            json!({ "Sid": "InvokeGateways", "Effect": "Allow", "Action": "bedrock-agentcore:InvokeGateway" }),
        );
        if let Val::Map(m) = &mut statement {
            m.insert(
                "Resource".into(),
                Val::List(gateway_arns.iter().map(Val::from).collect()),
            );
        }
        if let Val::Map(d) = &mut document
            && let Some(Val::List(statements)) = d.get_mut("Statement")
        {
            statements.push(statement);
        }
    }
    document
}
