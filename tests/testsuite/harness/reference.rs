//! The reference stack (`examples/iam-gateway`) as the account should hold
//! it, checked through the official SDK only.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_bedrockagentcorecontrol::types::{
    AgentRuntimeStatus, AuthorizerType, CredentialProviderType, GatewayProtocolType, GatewayStatus,
    SearchType, TargetStatus,
};
use serde_json::Value;

use super::{REGION, Sdk, Test, allowed_actions, allowing, as_list, statements};

pub const MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
pub const NEW_MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// What the reference stack looks like in the account, read through the SDK.
#[derive(Debug)]
pub struct Stack {
    pub gateway_id: String,
    pub gateway_arn: String,
    pub gateway_url: String,
    pub runtime_id: String,
    pub runtime_arn: String,
    pub function_arn: String,
    pub code_sha256: String,
    pub tools: Vec<String>,
    pub runtime_env: BTreeMap<String, String>,
}

/// The trust policy lets AgentCore assume the role only for this account's
/// resources of `kind` (`gateway` or `runtime`).
#[track_caller]
pub fn assert_agentcore_trust(role: &str, trust: &Value, account: &str, kind: &str) {
    let st = statements(trust);
    assert_eq!(
        st.len(),
        1,
        "{role}: one trust statement expected: {trust:#}"
    );
    let s = &st[0];
    assert_eq!(s["Effect"], "Allow", "{role}: {trust:#}");
    assert_eq!(
        as_list(&s["Principal"]["Service"]),
        vec!["bedrock-agentcore.amazonaws.com"],
        "{role}: {trust:#}"
    );
    assert_eq!(
        as_list(&s["Action"]),
        vec!["sts:AssumeRole"],
        "{role}: {trust:#}"
    );
    let cond = s["Condition"]
        .as_object()
        .unwrap_or_else(|| panic!("{role}: trust policy has no conditions: {trust:#}"));
    let find = |key: &str| cond.values().find_map(|ops| ops.get(key)).map(as_list);
    assert_eq!(
        find("aws:SourceAccount"),
        Some(vec![account.to_string()]),
        "{role}: aws:SourceAccount: {trust:#}"
    );
    let source_arns = find("aws:SourceArn")
        .unwrap_or_else(|| panic!("{role}: no aws:SourceArn condition: {trust:#}"));
    let prefix = format!("arn:aws:bedrock-agentcore:{REGION}:{account}:{kind}/");
    assert!(
        !source_arns.is_empty() && source_arns.iter().all(|a| a.starts_with(&prefix)),
        "{role}: aws:SourceArn must be under {prefix}: {trust:#}"
    );
}

#[track_caller]
pub fn assert_tagged(what: &str, tags: &BTreeMap<String, String>, project: &str, resource: &str) {
    assert_eq!(
        tags.get("agentform:project").map(String::as_str),
        Some(project),
        "{what}: tags {tags:?}"
    );
    assert_eq!(
        tags.get("agentform:resource").map(String::as_str),
        Some(resource),
        "{what}: tags {tags:?}"
    );
    assert_eq!(
        tags.get("team").map(String::as_str),
        Some("platform"),
        "{what}: the spec's own tags are missing: {tags:?}"
    );
}

/// Checks every resource of the reference stack for `project` and returns
/// Applies, checks the stack through the SDK (no twins, the wiring right)
/// and that the next plan is empty: what "converges" means in these tests.
pub async fn apply_converges(t: &Test, sdk: &Sdk, project: &str) -> Stack {
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let stack = check_stack(sdk, project).await;
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    stack
}

/// the identifiers AWS assigned.
pub async fn check_stack(sdk: &Sdk, project: &str) -> Stack {
    let account = sdk.account_id().await;
    let path = format!("/agentform/{project}/");
    let (fn_name, gw_name, rt_name, repo_name) = (
        format!("{project}-tools"),
        format!("{project}-main"),
        format!("{project}_agent").replace('-', "_"),
        format!("{project}/agent"),
    );
    let (fn_role, gw_role, rt_role) = (
        format!("{project}-use1-fn-tools"),
        format!("{project}-use1-gw-main"),
        format!("{project}-use1-rt-agent"),
    );
    let function_arn = format!("arn:aws:lambda:{REGION}:{account}:function:{fn_name}");
    let repo_arn = format!("arn:aws:ecr:{REGION}:{account}:repository/{repo_name}");

    // --- IAM: exactly three roles of the project under its path (others
    // there, without agentform tags, are not the project's).
    let mut names = Vec::new();
    for name in sdk.role_names_under(&path).await {
        let role = sdk.role(&name).await.expect("role listed under the path");
        if role.tags.contains_key("agentform:project") {
            assert!(
                role.attached.is_empty(),
                "{name}: agentform attaches no managed policies, found {:?}",
                role.attached
            );
            names.push(name);
        }
    }
    names.sort();
    let mut want = vec![fn_role.clone(), gw_role.clone(), rt_role.clone()];
    want.sort();
    assert_eq!(names, want, "agentform roles under {path}");

    // Lambda execution role: trusted by Lambda, may write its own logs.
    let r = sdk.role(&fn_role).await.expect("function role");
    assert_eq!(r.path, path);
    assert_tagged(&fn_role, &r.tags, project, "iam_role.fn-tools");
    assert_eq!(statements(&r.trust).len(), 1, "{:#}", r.trust);
    assert_eq!(
        as_list(&statements(&r.trust)[0]["Principal"]["Service"]),
        vec!["lambda.amazonaws.com"],
        "{:#}",
        r.trust
    );
    assert_eq!(
        r.policies.len(),
        1,
        "{fn_role}: one inline policy expected: {:?}",
        r.policies.keys()
    );
    let doc = r.policies.values().next().unwrap();
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        let st = allowing(doc, action);
        assert!(!st.is_empty(), "{fn_role} may not {action}: {doc:#}");
        for res in st.iter().flat_map(|s| as_list(&s["Resource"])) {
            assert!(
                res.contains(&format!("log-group:/aws/lambda/{fn_name}")),
                "{fn_role}: {action} on {res}, not its own log group"
            );
        }
    }
    assert!(
        allowed_actions(doc).iter().all(|a| a.starts_with("logs:")),
        "{fn_role} allows more than logging: {doc:#}"
    );

    // Gateway service role: trusted by AgentCore for this account's
    // gateways, may invoke exactly its target function.
    let r = sdk.role(&gw_role).await.expect("gateway role");
    assert_eq!(r.path, path);
    assert_tagged(&gw_role, &r.tags, project, "iam_role.gw-main");
    assert_agentcore_trust(&gw_role, &r.trust, &account, "gateway");
    assert_eq!(
        r.policies.len(),
        1,
        "{gw_role}: one inline policy expected: {:?}",
        r.policies.keys()
    );
    let doc = r.policies.values().next().unwrap();
    assert_eq!(
        allowed_actions(doc),
        BTreeSet::from(["lambda:InvokeFunction".to_string()]),
        "{gw_role}: {doc:#}"
    );
    let resources: BTreeSet<String> = allowing(doc, "lambda:InvokeFunction")
        .iter()
        .flat_map(|s| as_list(&s["Resource"]))
        .collect();
    assert!(
        resources.contains(&function_arn),
        "{gw_role} may not invoke {function_arn}: {doc:#}"
    );
    for res in &resources {
        assert!(
            res == &function_arn || res == &format!("{function_arn}:*"),
            "{gw_role} may invoke {res}, which is not its target function: {doc:#}"
        );
    }
    let gw_role_arn = r.arn.clone();

    // Runtime execution role.
    let r = sdk.role(&rt_role).await.expect("runtime role");
    assert_eq!(r.path, path);
    assert_tagged(&rt_role, &r.tags, project, "iam_role.rt-agent");
    assert_agentcore_trust(&rt_role, &r.trust, &account, "runtime");
    assert_eq!(
        r.policies.len(),
        1,
        "{rt_role}: one inline policy expected: {:?}",
        r.policies.keys()
    );
    let rt_doc = r.policies.values().next().unwrap().clone();
    for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] {
        let res: Vec<String> = allowing(&rt_doc, action)
            .iter()
            .flat_map(|s| as_list(&s["Resource"]))
            .collect();
        assert_eq!(
            res,
            vec![repo_arn.clone()],
            "{rt_role}: {action} must be on its repository only: {rt_doc:#}"
        );
    }
    for action in [
        "ecr:GetAuthorizationToken",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
    ] {
        assert!(
            !allowing(&rt_doc, action).is_empty(),
            "{rt_role} may not {action}: {rt_doc:#}"
        );
    }
    let broad: Vec<String> = allowed_actions(&rt_doc)
        .into_iter()
        .filter(|a| a == "*" || a.ends_with(":*"))
        .collect();
    assert!(
        broad.is_empty(),
        "{rt_role} allows wildcard actions {broad:?}: {rt_doc:#}"
    );
    let rt_role_arn = r.arn.clone();
    let fn_role_arn = sdk.role(&fn_role).await.unwrap().arn;

    // --- Lambda.
    let f = sdk
        .lambda
        .get_function()
        .function_name(&fn_name)
        .send()
        .await
        .expect("GetFunction");
    let c = f.configuration().expect("configuration");
    assert_eq!(c.function_arn(), Some(function_arn.as_str()));
    assert_eq!(c.runtime().map(|r| r.as_str()), Some("python3.12"));
    assert_eq!(c.handler(), Some("handler.lambda_handler"));
    assert_eq!(c.memory_size(), Some(128));
    assert_eq!(c.timeout(), Some(30));
    assert_eq!(c.role(), Some(fn_role_arn.as_str()));
    let code_sha256 = c.code_sha256().expect("CodeSha256").to_string();
    let tags: BTreeMap<String, String> =
        f.tags().cloned().unwrap_or_default().into_iter().collect();
    assert_tagged(&fn_name, &tags, project, "lambda_function.tools");

    // --- ECR.
    let repos = sdk
        .ecr
        .describe_repositories()
        .repository_names(&repo_name)
        .send()
        .await
        .expect("DescribeRepositories");
    assert_eq!(repos.repositories().len(), 1);
    let repo = &repos.repositories()[0];
    assert_eq!(repo.repository_arn(), Some(repo_arn.as_str()));
    let tags = sdk
        .ecr
        .list_tags_for_resource()
        .resource_arn(&repo_arn)
        .send()
        .await
        .expect("ECR ListTagsForResource");
    let tags: BTreeMap<String, String> = tags
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    assert_tagged(&repo_name, &tags, project, "ecr_repository.agent");

    // --- Gateway: exactly one (no twin), IAM inbound auth, MCP.
    let ids = sdk.gateways_named(&gw_name).await;
    assert_eq!(ids.len(), 1, "gateways named {gw_name}: {ids:?}");
    let g = sdk
        .agentcore
        .get_gateway()
        .gateway_identifier(&ids[0])
        .send()
        .await
        .expect("GetGateway");
    assert_eq!(g.status(), &GatewayStatus::Ready);
    assert_eq!(g.authorizer_type(), &AuthorizerType::AwsIam);
    assert_eq!(g.protocol_type(), &GatewayProtocolType::Mcp);
    assert_eq!(g.role_arn(), Some(gw_role_arn.as_str()));
    let search = g
        .protocol_configuration()
        .and_then(|p| p.as_mcp().ok())
        .and_then(|m| m.search_type());
    assert_eq!(
        search,
        Some(&SearchType::Semantic),
        "the spec asks for semantic search"
    );
    let gateway_arn = g.gateway_arn().to_string();
    let gateway_url = g.gateway_url().expect("gatewayUrl").to_string();
    assert_eq!(
        gateway_arn,
        format!(
            "arn:aws:bedrock-agentcore:{REGION}:{account}:gateway/{}",
            g.gateway_id()
        )
    );
    assert!(gateway_url.ends_with("/mcp"), "{gateway_url}");
    assert_tagged(
        &gw_name,
        &sdk.agentcore_tags(&gateway_arn).await,
        project,
        "gateway.main",
    );

    // --- Its one target: the Lambda, its tools, the gateway's own role.
    let targets = sdk.targets_of(g.gateway_id()).await;
    assert_eq!(
        targets.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        vec!["lambda-target"],
        "targets of {gw_name}"
    );
    let t = sdk
        .agentcore
        .get_gateway_target()
        .gateway_identifier(g.gateway_id())
        .target_id(&targets[0].1)
        .send()
        .await
        .expect("GetGatewayTarget");
    assert_eq!(t.status(), &TargetStatus::Ready);
    let lambda = t
        .target_configuration()
        .and_then(|c| c.as_mcp().ok())
        .and_then(|m| m.as_lambda().ok())
        .expect("an MCP Lambda target");
    assert_eq!(lambda.lambda_arn(), function_arn);
    let tools: Vec<String> = lambda
        .tool_schema()
        .and_then(|s| s.as_inline_payload().ok())
        .expect("inline tool schema")
        .iter()
        .map(|d| d.name().to_string())
        .collect();
    let creds = t.credential_provider_configurations();
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(
        creds[0].credential_provider_type(),
        &CredentialProviderType::GatewayIamRole
    );

    // --- Runtime: exactly one; its env points at the gateway; its role may
    // invoke exactly that gateway.
    let rt = sdk.the_runtime_named(&rt_name).await;
    assert_eq!(rt.status(), &AgentRuntimeStatus::Ready);
    assert_eq!(rt.role_arn(), rt_role_arn);
    let uri = rt
        .agent_runtime_artifact()
        .and_then(|a| a.as_container_configuration().ok())
        .map(|c| c.container_uri().to_string());
    assert_eq!(
        uri,
        Some(format!(
            "{account}.dkr.ecr.{REGION}.amazonaws.com/{repo_name}:latest"
        ))
    );
    let runtime_env: BTreeMap<String, String> = rt
        .environment_variables()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert_eq!(
        runtime_env.get("GATEWAY_URL"),
        Some(&gateway_url),
        "runtime env {runtime_env:?}"
    );
    let runtime_arn = rt.agent_runtime_arn().to_string();
    assert_tagged(
        &rt_name,
        &sdk.agentcore_tags(&runtime_arn).await,
        project,
        "runtime.agent",
    );
    let invoke: Vec<String> = allowing(&rt_doc, "bedrock-agentcore:InvokeGateway")
        .iter()
        .flat_map(|s| as_list(&s["Resource"]))
        .collect();
    assert_eq!(
        invoke,
        vec![gateway_arn.clone()],
        "{rt_role} must invoke exactly the gateway: {rt_doc:#}"
    );

    Stack {
        gateway_id: g.gateway_id().to_string(),
        gateway_arn,
        gateway_url,
        runtime_id: rt.agent_runtime_id().to_string(),
        runtime_arn,
        function_arn,
        code_sha256,
        tools,
        runtime_env,
    }
}
