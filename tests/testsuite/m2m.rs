//! `cognito_m2m` gateways: agentform makes and owns the Cognito user pool
//! (domain, resource server), an app client per calling runtime and an
//! AgentCore Identity OAuth2 credential provider holding each client's
//! secret; the gateway's JWT authorizer names the pool and exactly those
//! clients. Checked through the SDK against moto (Cognito, patched where it
//! differs from AWS) and the identity backend in tests/support; re-planned
//! empty; a provider whose secret was changed out of band is put right; a
//! runtime that stops calling the gateway loses its client; the scopes
//! change; destroy leaves nothing. The client secrets appear in no output.
//! One runtime lists the tools it may call, so agentform derives a Cedar
//! policy per runtime (naming its client and its tools, or all tools for
//! the runtime that lists none) in an engine it owns, enforcing.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::{Sdk, Test, allowing, as_list, identity_violations, sdk};

const SPEC: &str = r#"version: 1
project: tm2m
gateways:
  main:
    authorizer:
      cognito_m2m: {}
    targets:
      calc:
        lambda_arn: arn:aws:lambda:us-east-1:123456789012:function:calc
        tools:
          - { name: add_numbers, description: Adds, input: { type: object } }
          - { name: ping, description: Pong, input: { type: object } }
runtimes:
  alpha:
    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }
    invoke_gateways: [main]
    tools: [main.calc___add_numbers]
  beta:
    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/b:latest }
    invoke_gateways: [main]
"#;

struct Pool {
    id: String,
    domain: String,
    tags: std::collections::HashMap<String, String>,
    /// identifier -> scope names
    servers: Vec<(String, Vec<String>)>,
    /// name -> (id, secret, scopes, flows)
    clients: std::collections::BTreeMap<String, (String, String, Vec<String>, Vec<String>)>,
}

async fn pool(sdk: &Sdk, name: &str) -> Option<Pool> {
    let listed = sdk
        .cognito
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools");
    let ids: Vec<String> = listed
        .user_pools()
        .iter()
        .filter(|p| p.name() == Some(name))
        .filter_map(|p| p.id().map(str::to_string))
        .collect();
    assert!(ids.len() <= 1, "twins: {ids:?}");
    let id = ids.into_iter().next()?;
    let d = sdk
        .cognito
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("DescribeUserPool");
    let p = d.user_pool().unwrap();
    let servers = sdk
        .cognito
        .list_resource_servers()
        .user_pool_id(&id)
        .max_results(50)
        .send()
        .await
        .expect("ListResourceServers")
        .resource_servers()
        .iter()
        .map(|r| {
            (
                r.identifier().unwrap_or_default().to_string(),
                r.scopes()
                    .iter()
                    .map(|s| s.scope_name().to_string())
                    .collect(),
            )
        })
        .collect();
    let mut clients = std::collections::BTreeMap::new();
    let listed = sdk
        .cognito
        .list_user_pool_clients()
        .user_pool_id(&id)
        .max_results(60)
        .send()
        .await
        .expect("ListUserPoolClients");
    for c in listed.user_pool_clients() {
        let d = sdk
            .cognito
            .describe_user_pool_client()
            .user_pool_id(&id)
            .client_id(c.client_id().unwrap())
            .send()
            .await
            .expect("DescribeUserPoolClient");
        let c = d.user_pool_client().unwrap();
        let name = c.client_name().unwrap().to_string();
        assert!(!clients.contains_key(&name), "two clients named {name}");
        clients.insert(
            name,
            (
                c.client_id().unwrap().to_string(),
                c.client_secret().expect("a client secret").to_string(),
                c.allowed_o_auth_scopes().to_vec(),
                c.allowed_o_auth_flows()
                    .iter()
                    .map(|f| f.as_str().to_string())
                    .collect(),
            ),
        );
    }
    Some(Pool {
        domain: p.domain().unwrap_or_default().to_string(),
        tags: p.user_pool_tags().cloned().unwrap_or_default(),
        id,
        servers,
        clients,
    })
}

/// The OAuth2 provider named `name`: (client id, discovery URL, secret
/// value in Secrets Manager, tags).
async fn provider(
    sdk: &Sdk,
    name: &str,
) -> Option<(
    String,
    String,
    String,
    std::collections::BTreeMap<String, String>,
)> {
    let p = sdk
        .agentcore
        .get_oauth2_credential_provider()
        .name(name)
        .send()
        .await
        .ok()?;
    assert_eq!(p.credential_provider_vendor().as_str(), "CustomOauth2");
    let Some(
        aws_sdk_bedrockagentcorecontrol::types::Oauth2ProviderConfigOutput::CustomOauth2ProviderConfig(c),
    ) = p.oauth2_provider_config_output()
    else {
        panic!("{name}: not a custom OAuth2 configuration");
    };
    let url = c
        .oauth_discovery()
        .and_then(|d| d.as_discovery_url().ok())
        .cloned()
        .unwrap_or_default();
    let secret_arn = p.client_secret_arn().unwrap().secret_arn().to_string();
    let value = sdk
        .secrets
        .get_secret_value()
        .secret_id(&secret_arn)
        .send()
        .await
        .expect("GetSecretValue");
    let json: Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    let secret = json["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let tags = sdk.agentcore_tags(p.credential_provider_arn()).await;
    Some((
        c.client_id().unwrap_or_default().to_string(),
        url,
        secret,
        tags,
    ))
}

/// The gateway's JWT authorizer: (discovery URL, allowed clients, scopes).
async fn jwt(sdk: &Sdk) -> (String, BTreeSet<String>, Vec<String>) {
    jwt_of(sdk, "tm2m-main").await
}

async fn jwt_of(sdk: &Sdk, gateway: &str) -> (String, BTreeSet<String>, Vec<String>) {
    let ids = sdk.gateways_named(gateway).await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    let g = sdk
        .agentcore
        .get_gateway()
        .gateway_identifier(&ids[0])
        .send()
        .await
        .expect("GetGateway");
    assert_eq!(g.authorizer_type().as_str(), "CUSTOM_JWT");
    let j = g
        .authorizer_configuration()
        .and_then(|c| c.as_custom_jwt_authorizer().ok())
        .expect("a JWT authorizer");
    (
        j.discovery_url().to_string(),
        j.allowed_clients().iter().cloned().collect(),
        j.allowed_scopes().to_vec(),
    )
}

/// Policy name -> Cedar statement.
async fn policies(sdk: &Sdk, engine_id: &str) -> std::collections::BTreeMap<String, String> {
    sdk.cedar_policies(engine_id)
        .await
        .into_iter()
        .map(|(name, (statement, _))| (name, statement))
        .collect()
}

async fn runtime_env(sdk: &Sdk, name: &str) -> std::collections::HashMap<String, String> {
    let ids = sdk.runtimes_named(name).await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    let r = sdk
        .agentcore
        .get_agent_runtime()
        .agent_runtime_id(&ids[0])
        .send()
        .await
        .expect("GetAgentRuntime");
    r.environment_variables().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_m2m_gateways_get_a_pool_and_a_client_per_runtime() {
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    let sdk = sdk().await;
    let account = sdk.account_id().await;
    let mut outputs = Vec::new();

    outputs.push(t.run(&["validate"]).expect_ok().to_string());
    let plan = t.run(&["plan"]).expect_ok();
    for needle in [
        "cognito_user_pool.main will be created",
        "cognito_m2m_client.main/alpha will be created",
        "cognito_m2m_client.main/beta will be created",
        "credential_provider         = \"tm2m-main-alpha\"",
        "authorizer_type",
    ] {
        assert!(plan.stdout.contains(needle), "missing {needle:?}:\n{plan}");
    }
    outputs.push(plan.to_string());
    outputs.push(
        t.run(&["apply", "--auto-approve", "-vv"])
            .expect_ok()
            .to_string(),
    );

    // The pool, tagged, with its domain and resource server.
    let p = pool(&sdk, "tm2m-main").await.expect("the user pool");
    assert_eq!(
        p.tags.get("agentform:resource").map(String::as_str),
        Some("cognito_user_pool.main")
    );
    assert!(p.domain.starts_with("tm2m-main-"), "{}", p.domain);
    assert_eq!(
        p.servers,
        [("tm2m-main".to_string(), vec!["invoke".to_string()])]
    );
    let names: Vec<&str> = p.clients.keys().map(String::as_str).collect();
    assert_eq!(names, ["alpha", "beta"]);
    let discovery = format!(
        "https://cognito-idp.us-east-1.amazonaws.com/{}/.well-known/openid-configuration",
        p.id
    );
    let mut secrets = Vec::new();
    for (name, (id, secret, scopes, flows)) in &p.clients {
        assert_eq!(scopes, &["tm2m-main/invoke"], "{name}");
        assert_eq!(flows, &["client_credentials"], "{name}");
        // Its provider holds exactly this client.
        let (pid, url, psecret, tags) = provider(&sdk, &format!("tm2m-main-{name}"))
            .await
            .expect("the client's credential provider");
        assert_eq!((&pid, &url), (id, &discovery), "{name}");
        assert_eq!(
            &psecret, secret,
            "{name}: the provider holds the client's secret"
        );
        assert_eq!(
            tags.get("agentform:resource").map(String::as_str),
            Some(format!("cognito_m2m_client.main/{name}").as_str())
        );
        secrets.push(secret.clone());
    }

    // The gateway takes tokens of the pool for exactly these clients.
    let (url, clients, scopes) = jwt(&sdk).await;
    assert_eq!(url, discovery);
    let want: BTreeSet<String> = p.clients.values().map(|c| c.0.clone()).collect();
    assert_eq!(clients, want);
    assert_eq!(scopes, ["tm2m-main/invoke"]);

    // Each runtime's role may get tokens from its own provider only, and
    // has no IAM grant on the gateway.
    let roles = sdk.role_names_under("/agentform/tm2m/").await;
    let rt_role = roles.iter().find(|r| r.contains("rt-alpha")).expect("role");
    let role = sdk.role(rt_role).await.unwrap();
    let doc = role.policies.values().next().expect("its inline policy");
    let tokens = allowing(doc, "bedrock-agentcore:GetResourceOauth2Token");
    assert_eq!(tokens.len(), 1, "{doc:#}");
    let resources = as_list(&tokens[0]["Resource"]);
    let alpha_arn = format!(
        "arn:aws:bedrock-agentcore:us-east-1:{account}:token-vault/default/oauth2credentialprovider/tm2m-main-alpha"
    );
    assert!(resources.contains(&alpha_arn), "{resources:?}");
    assert!(
        !resources.iter().any(|r| r.ends_with("tm2m-main-beta")),
        "{resources:?}"
    );
    assert!(
        allowing(doc, "bedrock-agentcore:InvokeGateway").is_empty(),
        "{doc:#}"
    );
    let secret_grant = as_list(&allowing(doc, "secretsmanager:GetSecretValue")[0]["Resource"]);
    assert_eq!(
        secret_grant,
        [format!(
            "arn:aws:secretsmanager:us-east-1:{account}:secret:bedrock-agentcore-identity!default/oauth2/tm2m-main-alpha-*"
        )]
    );

    // The derived tool access: an engine agentform owns, enforcing, with a
    // policy per runtime that names its client.
    let gid = sdk.gateways_named("tm2m-main").await[0].clone();
    let garn = format!("arn:aws:bedrock-agentcore:us-east-1:{account}:gateway/{gid}");
    let (engine_id, engine_arn) = sdk
        .policy_engine_named("tm2m_main_tools")
        .await
        .expect("the engine");
    assert_eq!(
        sdk.gateway_policy_engine(&gid).await,
        Some((engine_arn.clone(), "ENFORCE".to_string()))
    );
    let cedar = policies(&sdk, &engine_id).await;
    let names: Vec<&str> = cedar.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["tm2m_main_tools_tools_alpha", "tm2m_main_tools_tools_beta"]
    );
    let alpha = &cedar["tm2m_main_tools_tools_alpha"];
    for needle in [
        "principal is AgentCore::OAuthUser".to_string(),
        "action in [AgentCore::Action::\"calc___add_numbers\"]".to_string(),
        format!("resource == AgentCore::Gateway::\"{garn}\""),
        format!("principal.id == \"{}\"", p.clients["alpha"].0),
    ] {
        assert!(alpha.contains(&needle), "missing {needle:?}:\n{alpha}");
    }
    assert!(!alpha.contains("ping"), "{alpha}");
    let beta = &cedar["tm2m_main_tools_tools_beta"];
    assert!(
        beta.contains("\n  action,\n"),
        "beta lists no tools: all of them\n{beta}"
    );
    assert!(beta.contains(&p.clients["beta"].0), "{beta}");
    // The runtime is told its provider and scopes.
    let env = runtime_env(&sdk, "tm2m_alpha").await;
    assert_eq!(
        env.get("AGENTFORM_GATEWAY_MAIN_OAUTH_PROVIDER")
            .map(String::as_str),
        Some("tm2m-main-alpha")
    );
    assert_eq!(
        env.get("AGENTFORM_GATEWAY_MAIN_OAUTH_SCOPES")
            .map(String::as_str),
        Some("tm2m-main/invoke")
    );

    outputs.push(
        t.run(&["plan", "--detailed-exitcode"])
            .expect_ok()
            .to_string(),
    );

    // A provider whose secret was changed behind agentform's back is put
    // right, without either secret shown.
    let (alpha_id, alpha_secret, ..) = p.clients["alpha"].clone();
    sdk.agentcore
        .update_oauth2_credential_provider()
        .name("tm2m-main-alpha")
        .credential_provider_vendor(
            aws_sdk_bedrockagentcorecontrol::types::CredentialProviderVendorType::CustomOauth2,
        )
        .oauth2_provider_config_input(
            aws_sdk_bedrockagentcorecontrol::types::Oauth2ProviderConfigInput::CustomOauth2ProviderConfig(
                aws_sdk_bedrockagentcorecontrol::types::CustomOauth2ProviderConfigInput::builder()
                    .oauth_discovery(
                        aws_sdk_bedrockagentcorecontrol::types::Oauth2Discovery::DiscoveryUrl(
                            discovery.clone(),
                        ),
                    )
                    .client_id(&alpha_id)
                    .client_secret("stalesecretstalesecretstalesecret")
                    .build(),
            ),
        )
        .send()
        .await
        .expect("UpdateOauth2CredentialProvider");
    let drift = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    assert_eq!(
        drift.plan_headers(),
        ["cognito_m2m_client.main/alpha will be updated in place"],
        "{drift}"
    );
    assert!(
        drift
            .stdout
            .contains("credential_provider_current = false -> true"),
        "{drift}"
    );
    outputs.push(drift.to_string());
    outputs.push(t.run(&["apply", "--auto-approve"]).expect_ok().to_string());
    let (_, _, psecret, _) = provider(&sdk, "tm2m-main-alpha").await.unwrap();
    assert_eq!(psecret, alpha_secret);
    outputs.push(
        t.run(&["plan", "--detailed-exitcode"])
            .expect_ok()
            .to_string(),
    );

    // beta's client deleted behind agentform's back: its provider is still
    // the project's, the client is made again and everything that names it
    // (the gateway, beta's Cedar policy) follows.
    let pool_id = pool(&sdk, "tm2m-main").await.unwrap().id;
    let old_beta = p.clients["beta"].0.clone();
    sdk.cognito
        .delete_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&old_beta)
        .send()
        .await
        .expect("DeleteUserPoolClient");
    let gone = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    let headers: BTreeSet<String> = gone.plan_headers().into_iter().collect();
    for h in [
        "cognito_m2m_client.main/beta will be updated in place",
        "gateway.main will be updated in place",
        "policy.main-tools/tools-beta will be updated in place",
    ] {
        assert!(headers.contains(h), "missing {h:?}: {headers:?}\n{gone}");
    }
    outputs.push(gone.to_string());
    outputs.push(t.run(&["apply", "--auto-approve"]).expect_ok().to_string());
    let again = pool(&sdk, "tm2m-main").await.unwrap();
    let (new_beta, new_secret, ..) = again.clients["beta"].clone();
    assert_ne!(new_beta, old_beta);
    let (pid, _, psecret, _) = provider(&sdk, "tm2m-main-beta").await.unwrap();
    assert_eq!((pid, psecret.clone()), (new_beta.clone(), new_secret));
    secrets.push(psecret);
    assert!(jwt(&sdk).await.1.contains(&new_beta));
    outputs.push(
        t.run(&["plan", "--detailed-exitcode"])
            .expect_ok()
            .to_string(),
    );

    // beta stops calling the gateway: its client and provider go, and the
    // gateway stops accepting it; a second scope is added for everyone.
    t.edit_spec(
        "  beta:\n    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/b:latest }\n    invoke_gateways: [main]\n",
        "  beta:\n    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/b:latest }\n",
    );
    t.edit_spec("cognito_m2m: {}", "cognito_m2m: { scopes: [invoke, read] }");
    let change = t.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    let headers: BTreeSet<String> = change.plan_headers().into_iter().collect();
    for h in [
        "cognito_user_pool.main will be updated in place",
        "cognito_m2m_client.main/alpha will be updated in place",
        "cognito_m2m_client.main/beta will be destroyed (not in the spec)",
        "gateway.main will be updated in place",
        "policy.main-tools/tm2m_main_tools_tools_beta will be destroyed (not in the spec)",
    ] {
        assert!(headers.contains(h), "missing {h:?}: {headers:?}\n{change}");
    }
    outputs.push(change.to_string());
    outputs.push(t.run(&["apply", "--auto-approve"]).expect_ok().to_string());
    let p = pool(&sdk, "tm2m-main").await.unwrap();
    assert_eq!(
        p.servers,
        [(
            "tm2m-main".to_string(),
            vec!["invoke".to_string(), "read".to_string()]
        )]
    );
    let names: Vec<&str> = p.clients.keys().map(String::as_str).collect();
    assert_eq!(names, ["alpha"]);
    assert_eq!(p.clients["alpha"].2, ["tm2m-main/invoke", "tm2m-main/read"]);
    assert!(provider(&sdk, "tm2m-main-beta").await.is_none());
    let (_, clients, scopes) = jwt(&sdk).await;
    assert_eq!(clients, BTreeSet::from([p.clients["alpha"].0.clone()]));
    assert_eq!(scopes, ["tm2m-main/invoke", "tm2m-main/read"]);
    outputs.push(
        t.run(&["plan", "--detailed-exitcode"])
            .expect_ok()
            .to_string(),
    );

    outputs.push(
        t.run(&["destroy", "--auto-approve"])
            .expect_ok()
            .to_string(),
    );
    let left = sdk.leftovers("tm2m").await;
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(provider(&sdk, "tm2m-main-alpha").await.is_none());
    assert_eq!(identity_violations().await, serde_json::json!([]));

    for (i, out) in outputs.iter().enumerate() {
        for s in &secrets {
            assert!(
                !out.contains(s.as_str()),
                "output {i} shows a client secret:\n{out}"
            );
        }
    }
}

#[test]
fn validate_locates_cognito_m2m_mistakes() {
    let t = Test::new();
    t.write(
        "agentform.yaml",
        r#"version: 1
project: tm2mv
gateways:
  lonely:
    authorizer:
      cognito_m2m: { scopes: ["bad/scope"] }
runtimes:
  agent:
    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }
    authorizer:
      cognito_m2m: {}
"#,
    );
    let out = t.run(&["validate"]).expect_code(1);
    for needle in [
        "scope `bad/scope` has '/', which Cognito refuses in scope names",
        "agentform.yaml:6:31",
        "no runtime calls gateway `lonely`, so its user pool would have no client",
        "agentform.yaml:6:7",
        "`cognito_m2m` is for gateways",
        "agentform.yaml:11:7",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?}:\n{out}");
    }
}

/// `examples/multi-agent` as written: two runtimes share one `cognito_m2m`
/// gateway with a Lambda target, an OpenAPI target behind an API key and
/// an MCP server behind OAuth, each allowed a different subset of tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_multi_agent_example_gives_each_agent_its_own_tools() {
    let t = Test::new().example("multi-agent");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/multi-agent");
    t.write(
        "weather.yaml",
        &std::fs::read_to_string(example.join("weather.yaml")).unwrap(),
    );
    let sdk = sdk().await;
    let account = sdk.account_id().await;
    let (key, secret) = ("wx-key-multi-agent-0001", "gh-secret-multi-agent-0001");
    let env = [("WEATHER_API_KEY", key), ("GITHUB_CLIENT_SECRET", secret)];
    let support =
        format!("--var=support_image={account}.dkr.ecr.us-east-1.amazonaws.com/agents/support:v1");
    let research = format!(
        "--var=research_image={account}.dkr.ecr.us-east-1.amazonaws.com/agents/research:v1"
    );
    let mut outputs = Vec::new();
    let mut run = |args: &[&str], code: i32| {
        let mut all: Vec<&str> = args.to_vec();
        if args[0] != "validate" || args.len() == 1 {
            all.extend([support.as_str(), research.as_str()]);
        }
        let out = t.run_env(&all, &env).expect_code(code);
        outputs.push(out.to_string());
        out
    };

    run(&["validate"], 0);
    run(&["apply", "--auto-approve"], 0);

    let p = pool(&sdk, "multi-agent-demo-shared")
        .await
        .expect("the user pool");
    let names: Vec<&str> = p.clients.keys().map(String::as_str).collect();
    assert_eq!(names, ["research", "support"]);
    for (name, (id, client_secret, scopes, _)) in &p.clients {
        assert_eq!(scopes, &["multi-agent-demo-shared/invoke"], "{name}");
        let (pid, _, psecret, _) = provider(&sdk, &format!("multi-agent-demo-shared-{name}"))
            .await
            .expect("the client's credential provider");
        assert_eq!((&pid, &psecret), (id, client_secret), "{name}");
    }
    let gid = sdk.gateways_named("multi-agent-demo-shared").await[0].clone();
    let (engine_id, engine_arn) = sdk
        .policy_engine_named("multi_agent_demo_shared_tools")
        .await
        .expect("the derived engine");
    assert_eq!(
        sdk.gateway_policy_engine(&gid).await,
        Some((engine_arn, "ENFORCE".to_string()))
    );
    let (_, clients, _) = jwt_of(&sdk, "multi-agent-demo-shared").await;
    assert_eq!(
        clients,
        p.clients
            .values()
            .map(|c| c.0.clone())
            .collect::<BTreeSet<_>>()
    );
    let cedar = policies(&sdk, &engine_id).await;
    let actions = |statement: &str| -> BTreeSet<String> {
        statement
            .split("AgentCore::Action::\"")
            .skip(1)
            .filter_map(|s| s.split('"').next().map(str::to_string))
            .collect()
    };
    let support_policy = &cedar["multi_agent_demo_shared_tools_tools_support"];
    assert!(support_policy.contains(&format!("principal.id == \"{}\"", p.clients["support"].0)));
    assert_eq!(
        actions(support_policy),
        BTreeSet::from(
            ["calc___greet", "weather___alerts", "weather___forecast"].map(String::from)
        )
    );
    let research_policy = &cedar["multi_agent_demo_shared_tools_tools_research"];
    assert!(research_policy.contains(&format!("principal.id == \"{}\"", p.clients["research"].0)));
    assert_eq!(
        actions(research_policy),
        BTreeSet::from(["calc___add_numbers", "docs___search"].map(String::from))
    );
    // The targets use the spec's credential providers.
    let targets: BTreeSet<(String, String)> = sdk.targets_of(&gid).await.into_iter().collect();
    assert_eq!(targets.len(), 3, "{targets:?}");

    run(&["plan", "--detailed-exitcode"], 0);
    run(&["destroy", "--auto-approve"], 0);
    let left = sdk.leftovers("multi-agent-demo").await;
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(identity_violations().await, serde_json::json!([]));
    let client_secrets: Vec<&String> = p.clients.values().map(|c| &c.1).collect();
    for (i, out) in outputs.iter().enumerate() {
        assert!(
            !out.contains(key) && !out.contains(secret),
            "output {i}:\n{out}"
        );
        for s in &client_secrets {
            assert!(
                !out.contains(s.as_str()),
                "output {i} shows a client secret:\n{out}"
            );
        }
    }
}

#[test]
fn validate_locates_derived_tool_access_mistakes() {
    let t = Test::new();
    t.write(
        "agentform.yaml",
        r#"version: 1
project: tm2mt
policy_engines:
  main-tools:
    policies:
      p: { cedar: { inline: 'permit(principal, action, resource is AgentCore::Gateway);' } }
gateways:
  main:
    authorizer:
      cognito_m2m: {}
    targets:
      docs:
        mcp_server: https://mcp.example.com/mcp
runtimes:
  agent:
    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }
    invoke_gateways: [main]
    tools: [main.docs___search, main.docs]
  other:
    artifact: { image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }
    tools: [main.docs___search]
"#,
    );
    let out = t.run(&["validate"]).expect_code(1);
    for needle in [
        "the tools of target `docs` are known only to the service, so `main.docs` cannot become a Cedar policy",
        "agentform.yaml:18:33",
        "runtime `other` lists tools of gateway `main` but does not call it",
        "agentform.yaml:21:13",
        "policy engine `main-tools` is the one agentform derives for gateway `main`",
        "agentform.yaml:4:3",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?}:\n{out}");
    }
}

/// The two variables agentform adds per `cognito_m2m` gateway count toward
/// a runtime's 50.
#[test]
fn the_variables_agentform_adds_count_toward_the_runtime_limit() {
    let env: String = (0..49).map(|i| format!("      V{i}: x\n")).collect();
    let t = Test::new();
    t.write(
        "agentform.yaml",
        &format!(
            "version: 1\nproject: tm2me\ngateways:\n  main:\n    authorizer:\n      cognito_m2m: {{}}\nruntimes:\n  agent:\n    artifact: {{ image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a:latest }}\n    invoke_gateways: [main]\n    environment:\n{env}"
        ),
    );
    let out = t.run(&["validate"]).expect_code(1);
    for needle in [
        "a runtime takes at most 50 environment variables",
        "agentform adds 2 for the credential providers of its cognito_m2m gateways",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?}:\n{out}");
    }
}
