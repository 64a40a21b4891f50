//! Every kind of gateway target (a Lambda by ARN with tools from a file,
//! OpenAPI from a file with an API key, Smithy in S3, an MCP server with
//! OAuth, an API Gateway stage) and both kinds of credential provider:
//! created and checked through the SDK, re-planned empty, changed (a
//! rotated key, an edited OpenAPI file, a new MCP endpoint), deleted. The
//! identity backend in tests/support checks every request against the
//! service model; its list of violations must stay empty. Secret values
//! appear in no output, debug log, JSON plan or saved plan.

use serde_json::Value;

use crate::harness::{Sdk, Test, allowing, as_list, identity_violations, sdk};

const SPEC: &str = r#"version: 1
project: tkinds
credentials:
  weather:
    api_key: ${env:TK_WEATHER_KEY}
  github:
    oauth:
      vendor: github
      client_id: Iv1.tkinds
      client_secret: ${env:TK_GITHUB_SECRET}
gateways:
  main:
    authorizer: aws_iam
    targets:
      legacy:
        lambda_arn: arn:aws:lambda:us-east-1:123456789012:function:elsewhere
        tools: tools.json
      weather:
        openapi: weather.yaml
        credentials: { api_key: weather, name: X-Api-Key }
      shop:
        smithy: { s3: s3://tkinds-models/shop.json }
      docs:
        mcp_server: https://mcp.example.com/mcp
        credentials: { oauth: github, scopes: [repo] }
      pets:
        api_gateway:
          rest_api: abc123
          stage: prod
          tools: [{ path: /pets, methods: [GET, post] }]
"#;

const TOOLS: &str = r#"[
  {"name": "ping", "description": "Answers pong",
   "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}
]
"#;

const OPENAPI: &str = r#"openapi: 3.0.3
info: { title: Weather, version: "1.0" }
servers: [{ url: "https://api.weather.example.com" }]
paths:
  /forecast:
    get:
      operationId: forecast
      responses: { "200": { description: OK } }
"#;

const KEY: &str = "tk-weather-key-0001";
const ROTATED: &str = "tk-weather-key-0002";
const GH: &str = "tk-github-secret-0001";

fn env(key: &str) -> [(&'static str, String); 2] {
    [
        ("TK_WEATHER_KEY", key.to_string()),
        ("TK_GITHUB_SECRET", GH.to_string()),
    ]
}

fn run(t: &Test, args: &[&str], key: &str) -> crate::harness::Output {
    let e = env(key);
    let pairs: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = t.run_env(args, &pairs);
    for secret in [KEY, ROTATED, GH] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "a secret value was printed by {args:?}:\n{out}"
        );
    }
    out
}

async fn targets(
    sdk: &Sdk,
) -> Vec<aws_sdk_bedrockagentcorecontrol::operation::get_gateway_target::GetGatewayTargetOutput> {
    let ids = sdk.gateways_named("tkinds-main").await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    let mut out = Vec::new();
    for (_, tid) in sdk.targets_of(&ids[0]).await {
        out.push(
            sdk.agentcore
                .get_gateway_target()
                .gateway_identifier(&ids[0])
                .target_id(tid)
                .send()
                .await
                .expect("GetGatewayTarget"),
        );
    }
    out.sort_by(|a, b| a.name().cmp(b.name()));
    out
}

async fn secret_of(sdk: &Sdk, arn: &str, key: &str) -> String {
    let s = sdk
        .secrets
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .expect("GetSecretValue");
    let v: Value = serde_json::from_str(s.secret_string().unwrap()).unwrap();
    v[key].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_target_kind_and_credential_provider_converges() {
    use aws_sdk_bedrockagentcorecontrol::types::{
        CredentialProvider, McpTargetConfiguration, TargetConfiguration,
    };
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    t.write("tools.json", TOOLS);
    t.write("weather.yaml", OPENAPI);
    let sdk = sdk().await;

    run(&t, &["validate"], KEY).expect_ok();
    run(&t, &["apply", "--auto-approve"], KEY).expect_ok();

    // The providers, tagged, with their secrets where AgentCore keeps them.
    let key = sdk
        .agentcore
        .get_api_key_credential_provider()
        .name("tkinds-weather")
        .send()
        .await
        .expect("the API key provider");
    let key_arn = key.credential_provider_arn().to_string();
    assert_eq!(
        secret_of(
            &sdk,
            key.api_key_secret_arn().unwrap().secret_arn(),
            key.api_key_secret_json_key().unwrap_or("api_key_value")
        )
        .await,
        KEY
    );
    assert_eq!(
        sdk.agentcore_tags(&key_arn)
            .await
            .get("agentform:resource")
            .map(String::as_str),
        Some("api_key_credential_provider.weather")
    );
    let gh = sdk
        .agentcore
        .get_oauth2_credential_provider()
        .name("tkinds-github")
        .send()
        .await
        .expect("the OAuth2 provider");
    let gh_arn = gh.credential_provider_arn().to_string();
    assert_eq!(gh.credential_provider_vendor().as_str(), "GithubOauth2");
    assert_eq!(
        secret_of(
            &sdk,
            gh.client_secret_arn().unwrap().secret_arn(),
            gh.client_secret_json_key().unwrap_or("client_secret")
        )
        .await,
        GH
    );

    // Each target as the spec says, read back through the SDK.
    let all = targets(&sdk).await;
    let names: Vec<&str> = all.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["docs", "legacy", "pets", "shop", "weather"]);
    let mcp = |t: &aws_sdk_bedrockagentcorecontrol::operation::get_gateway_target::GetGatewayTargetOutput| match t.target_configuration() {
        Some(TargetConfiguration::Mcp(m)) => m.clone(),
        other => panic!("{}: not an MCP target: {other:?}", t.name()),
    };
    let cred = |t: &aws_sdk_bedrockagentcorecontrol::operation::get_gateway_target::GetGatewayTargetOutput| {
        t.credential_provider_configurations().first().cloned()
    };
    // docs: the MCP server, with OAuth from the GitHub provider.
    let McpTargetConfiguration::McpServer(s) = mcp(&all[0]) else {
        panic!("docs")
    };
    assert_eq!(s.endpoint(), "https://mcp.example.com/mcp");
    let c = cred(&all[0]).expect("docs has credentials");
    assert_eq!(c.credential_provider_type().as_str(), "OAUTH");
    let Some(CredentialProvider::OauthCredentialProvider(o)) = c.credential_provider() else {
        panic!("{c:?}")
    };
    assert_eq!(o.provider_arn(), gh_arn);
    assert_eq!(o.scopes(), ["repo"]);
    // legacy: a Lambda outside the spec, its tools from tools.json.
    let McpTargetConfiguration::Lambda(l) = mcp(&all[1]) else {
        panic!("legacy")
    };
    assert_eq!(
        l.lambda_arn(),
        "arn:aws:lambda:us-east-1:123456789012:function:elsewhere"
    );
    let tools = l.tool_schema().unwrap().as_inline_payload().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].name(), "ping");
    assert_eq!(
        cred(&all[1]).unwrap().credential_provider_type().as_str(),
        "GATEWAY_IAM_ROLE"
    );
    // pets: the API Gateway stage, methods upper-cased and sorted.
    let McpTargetConfiguration::ApiGateway(g) = mcp(&all[2]) else {
        panic!("pets")
    };
    assert_eq!((g.rest_api_id(), g.stage()), ("abc123", "prod"));
    let f = &g.api_gateway_tool_configuration().unwrap().tool_filters()[0];
    assert_eq!(f.filter_path(), "/pets");
    let methods: Vec<&str> = f.methods().iter().map(|m| m.as_str()).collect();
    assert_eq!(methods, ["GET", "POST"]);
    // shop: a Smithy model in S3.
    let McpTargetConfiguration::SmithyModel(m) = mcp(&all[3]) else {
        panic!("shop")
    };
    assert_eq!(
        m.as_s3().unwrap().uri(),
        Some("s3://tkinds-models/shop.json")
    );
    // weather: the OpenAPI file as JSON, with the API key in a header.
    let McpTargetConfiguration::OpenApiSchema(oa) = mcp(&all[4]) else {
        panic!("weather")
    };
    let doc: Value = serde_json::from_str(oa.as_inline_payload().unwrap()).unwrap();
    assert_eq!(doc["paths"]["/forecast"]["get"]["operationId"], "forecast");
    let c = cred(&all[4]).expect("weather has credentials");
    let Some(CredentialProvider::ApiKeyCredentialProvider(k)) = c.credential_provider() else {
        panic!("{c:?}")
    };
    assert_eq!(k.provider_arn(), key_arn);
    assert_eq!(k.credential_parameter_name(), Some("X-Api-Key"));
    assert_eq!(k.credential_location().map(|l| l.as_str()), Some("HEADER"));

    // The gateway's role: exactly these providers and their secrets, and
    // invoke on the Lambda outside the spec.
    let role = sdk
        .role(&sdk.role_names_under("/agentform/tkinds/").await[0])
        .await
        .unwrap();
    let doc = &role.policies["agentform"];
    let res = |action: &str| -> Vec<String> {
        allowing(doc, action)
            .iter()
            .flat_map(|s| as_list(&s["Resource"]))
            .collect()
    };
    assert!(
        res("bedrock-agentcore:GetResourceApiKey").contains(&key_arn),
        "{doc:#}"
    );
    assert!(
        !res("bedrock-agentcore:GetResourceApiKey").contains(&gh_arn),
        "{doc:#}"
    );
    assert!(
        res("bedrock-agentcore:GetResourceOauth2Token").contains(&gh_arn),
        "{doc:#}"
    );
    assert!(
        res("lambda:InvokeFunction")
            .contains(&"arn:aws:lambda:us-east-1:123456789012:function:elsewhere".to_string())
    );
    assert!(
        res("secretsmanager:GetSecretValue")
            .iter()
            .any(|r| r.contains("bedrock-agentcore-identity!default/apikey/tkinds-weather-")),
        "{doc:#}"
    );

    run(&t, &["plan", "--detailed-exitcode"], KEY).expect_code(0);

    // A rotated key, an edited OpenAPI file and a moved MCP server.
    t.write(
        "weather.yaml",
        &OPENAPI.replace("operationId: forecast", "operationId: outlook"),
    );
    t.edit_spec(
        "https://mcp.example.com/mcp",
        "https://mcp2.example.com/mcp",
    );
    // ... and every other kind changed too: a tool added to the tools
    // file, another model object, another method, another OAuth client.
    t.write("tools.json", &TOOLS.replace(
        "\n]",
        ",\n  {\"name\": \"pong\", \"description\": \"Answers ping\", \"inputSchema\": {\"type\": \"object\"}}\n]",
    ));
    t.edit_spec(
        "s3://tkinds-models/shop.json",
        "s3://tkinds-models/shop-v2.json",
    );
    t.edit_spec("methods: [GET, post]", "methods: [GET, post, DELETE]");
    t.edit_spec("client_id: Iv1.tkinds", "client_id: Iv1.tkinds2");
    let plan = run(&t, &["plan", "--detailed-exitcode"], ROTATED).expect_code(2);
    assert!(
        plan.stdout.contains("api_key_credential_provider.weather"),
        "{plan}"
    );
    assert!(plan.stdout.contains("(sensitive value changed)"), "{plan}");
    assert!(
        plan.stdout.contains("gateway_target.main/weather"),
        "{plan}"
    );
    assert!(plan.stdout.contains("gateway_target.main/docs"), "{plan}");
    // A saved plan holds no secret value either, nor does a debug log.
    run(&t, &["plan", "-vv", "--out", "rotate.plan"], ROTATED).expect_code(0);
    let saved = t.read("rotate.plan");
    for secret in [KEY, ROTATED, GH] {
        assert!(
            !saved.contains(secret),
            "the saved plan holds a secret value"
        );
    }
    let json = run(&t, &["plan", "--json"], ROTATED);
    assert!(
        json.stdout
            .contains("\"api_key_credential_provider.weather\""),
        "{json}"
    );
    // The saved plan is applied as reviewed: the secret values come from
    // the environment again, their digests proving them the planned ones.
    run(&t, &["apply", "rotate.plan"], ROTATED).expect_ok();
    let key = sdk
        .agentcore
        .get_api_key_credential_provider()
        .name("tkinds-weather")
        .send()
        .await
        .unwrap();
    assert_eq!(
        secret_of(
            &sdk,
            key.api_key_secret_arn().unwrap().secret_arn(),
            key.api_key_secret_json_key().unwrap_or("api_key_value")
        )
        .await,
        ROTATED
    );
    let all = targets(&sdk).await;
    let McpTargetConfiguration::OpenApiSchema(oa) = mcp(&all[4]) else {
        panic!("weather")
    };
    assert!(oa.as_inline_payload().unwrap().contains("outlook"));
    let McpTargetConfiguration::McpServer(s) = mcp(&all[0]) else {
        panic!("docs")
    };
    assert_eq!(s.endpoint(), "https://mcp2.example.com/mcp");
    let McpTargetConfiguration::Lambda(l) = mcp(&all[1]) else {
        panic!("legacy")
    };
    assert_eq!(
        l.tool_schema().unwrap().as_inline_payload().unwrap().len(),
        2
    );
    let McpTargetConfiguration::ApiGateway(g) = mcp(&all[2]) else {
        panic!("pets")
    };
    let methods: Vec<&str> = g.api_gateway_tool_configuration().unwrap().tool_filters()[0]
        .methods()
        .iter()
        .map(|m| m.as_str())
        .collect();
    assert_eq!(methods, ["DELETE", "GET", "POST"]);
    let McpTargetConfiguration::SmithyModel(m) = mcp(&all[3]) else {
        panic!("shop")
    };
    assert_eq!(
        m.as_s3().unwrap().uri(),
        Some("s3://tkinds-models/shop-v2.json")
    );
    let gh = sdk
        .agentcore
        .get_oauth2_credential_provider()
        .name("tkinds-github")
        .send()
        .await
        .unwrap();
    let Some(aws_sdk_bedrockagentcorecontrol::types::Oauth2ProviderConfigOutput::GithubOauth2ProviderConfig(c)) =
        gh.oauth2_provider_config_output()
    else {
        panic!("{gh:?}")
    };
    assert_eq!(c.client_id(), Some("Iv1.tkinds2"));
    run(&t, &["plan", "--detailed-exitcode"], ROTATED).expect_code(0);

    // A target and a credential leave the spec: both are deleted.
    t.write(
        "agentform.yaml",
        &t.read("agentform.yaml")
            .replace("      docs:\n        mcp_server: https://mcp2.example.com/mcp\n        credentials: { oauth: github, scopes: [repo] }\n", "")
            .replace("  github:\n    oauth:\n      vendor: github\n      client_id: Iv1.tkinds2\n      client_secret: ${env:TK_GITHUB_SECRET}\n", ""),
    );
    let spec = t.read("agentform.yaml");
    assert!(
        !spec.contains("github") && !spec.contains("docs:"),
        "{spec}"
    );
    run(&t, &["apply", "--auto-approve"], ROTATED).expect_ok();
    assert_eq!(targets(&sdk).await.len(), 4);
    assert!(
        sdk.agentcore
            .get_oauth2_credential_provider()
            .name("tkinds-github")
            .send()
            .await
            .is_err()
    );

    run(&t, &["destroy", "--auto-approve"], ROTATED).expect_ok();
    assert_eq!(sdk.leftovers("tkinds").await, Vec::<String>::new());
    assert_eq!(
        identity_violations().await,
        Value::Array(vec![]),
        "requests that do not validate against the service model"
    );
}

#[test]
fn validate_locates_target_and_credential_mistakes() {
    let t = Test::new();
    t.write(
        "agentform.yaml",
        r#"version: 1
project: tbad
credentials:
  weather:
    api_key: plain-text-key
gateways:
  main:
    authorizer: aws_iam
    targets:
      both:
        lambda_arn: arn:aws:lambda:us-east-1:123456789012:function:f
        mcp_server: https://mcp.example.com
        tools: [{ name: a, description: A, input: { type: object } }]
      old:
        openapi: swagger.json
      gone:
        openapi: missing.yaml
      keyless:
        mcp_server: http://insecure.example.com
        credentials: { api_key: wether }
      badtools:
        lambda_arn: arn:aws:lambda:us-east-1:123456789012:function:f
        tools: tools.json
"#,
    );
    t.write(
        "swagger.json",
        "{\"swagger\": \"2.0\", \"info\": {\"title\": \"x\", \"version\": \"1\"}, \"paths\": {}}\n",
    );
    t.write("tools.json", "[\n  {\"name\": \"x\", \"description\": \"X\",\n   \"inputSchema\": {\"type\": \"array\"}}\n]\n");
    let out = t.run(&["validate"]).expect_code(1);
    for needle in [
        "agentform.yaml:5:14",
        "the API key is written in the spec",
        "target `both` is both `lambda_arn` and `mcp_server`",
        "swagger.json:1:13: Swagger 2.0 is not supported",
        "cannot read `missing.yaml`",
        "an MCP server target's endpoint must be an https:// URL",
        "unknown credential `wether`",
        "did you mean `weather`?",
        "tools.json:3:4: an array schema needs `items`",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?}:\n{out}");
    }
}

const INTERCEPTED: &str = r#"version: 1
project: tguard
functions:
  guard:
    source: fn
    runtime: python3.12
    handler: handler.handler
gateways:
  main:
    authorizer: aws_iam
    interceptors:
      - { function: guard, on: [request] }
    targets:
      echo:
        lambda_arn: arn:aws:lambda:us-east-1:123456789012:function:echo
        tools: [{ name: echo, description: Echo, input: { type: object } }]
"#;

async fn interceptors_of(sdk: &Sdk) -> Vec<(String, Vec<String>, bool)> {
    let ids = sdk.gateways_named("tguard-main").await;
    let g = sdk
        .agentcore
        .get_gateway()
        .gateway_identifier(&ids[0])
        .send()
        .await
        .expect("GetGateway");
    g.interceptor_configurations()
        .iter()
        .map(|i| {
            (
                i.interceptor()
                    .unwrap()
                    .as_lambda()
                    .unwrap()
                    .arn()
                    .to_string(),
                i.interception_points()
                    .iter()
                    .map(|p| p.as_str().to_string())
                    .collect(),
                i.input_configuration()
                    .is_some_and(|c| c.pass_request_headers()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interceptors_are_the_specs_and_the_gateway_may_invoke_them() {
    let t = Test::new();
    t.write("agentform.yaml", INTERCEPTED);
    t.write(
        "fn/handler.py",
        "def handler(event, context):\n    return event\n",
    );
    let sdk = sdk().await;
    let guard = format!(
        "arn:aws:lambda:us-east-1:{}:function:tguard-guard",
        sdk.account_id().await
    );

    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(
        interceptors_of(&sdk).await,
        [(guard.clone(), vec!["REQUEST".to_string()], false)]
    );
    let role = sdk
        .role(
            &sdk.role_names_under("/agentform/tguard/")
                .await
                .into_iter()
                .find(|r| r.contains("-gw-"))
                .unwrap(),
        )
        .await
        .unwrap();
    let invoke: Vec<String> = allowing(&role.policies["agentform"], "lambda:InvokeFunction")
        .iter()
        .flat_map(|s| as_list(&s["Resource"]))
        .collect();
    assert!(invoke.contains(&guard), "{invoke:?}");
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    t.edit_spec(
        "{ function: guard, on: [request] }",
        "{ function: guard, on: [response, request], pass_headers: true }",
    );
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(
        interceptors_of(&sdk).await,
        [(
            guard.clone(),
            vec!["REQUEST".to_string(), "RESPONSE".to_string()],
            true
        )]
    );
    t.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    t.edit_spec("    interceptors:\n      - { function: guard, on: [response, request], pass_headers: true }\n", "");
    t.run(&["apply", "--auto-approve"]).expect_ok();
    assert_eq!(interceptors_of(&sdk).await, []);

    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert_eq!(sdk.leftovers("tguard").await, Vec::<String>::new());
}

#[test]
fn too_many_interceptors_are_refused_where_they_are_listed() {
    let t = Test::new();
    t.write(
        "agentform.yaml",
        &INTERCEPTED.replace(
            "      - { function: guard, on: [request] }\n",
            "      - { function: guard, on: [request] }\n      - { function: guard, on: [response] }\n      - { function: gaurd, on: [response] }\n",
        ),
    );
    t.write(
        "fn/handler.py",
        "def handler(event, context):\n    return event\n",
    );
    let out = t.run(&["validate"]).expect_code(1);
    for needle in [
        "gateway `main` has 3 interceptors; AgentCore allows 2",
        "agentform.yaml:11:5",
        "unknown function `gaurd`",
        "did you mean `guard`?",
    ] {
        assert!(out.stderr.contains(needle), "missing {needle:?}:\n{out}");
    }
}
