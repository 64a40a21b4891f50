//! The AWS layer against a real HTTP emulator (moto), below the CLI.
//! Ignored by default (CI runs the same paths end to end through
//! tests/lifecycle.rs, tests/safety.rs and tests/faults.rs); run them with
//! `--ignored` and `AGENTFORM_MOTO_URL` pointing at a moto server, e.g.
//!
//! ```text
//! .venv/bin/python tests/support/moto_server.py --host 127.0.0.1 --port 5055 &
//! AGENTFORM_MOTO_URL=http://127.0.0.1:5055 cargo test --lib aws::moto_tests -- --nocapture
//! ```
//!
//! The property that matters most: what `observe` reads back equals the
//! config that was sent, so an unchanged stack plans as "no changes".

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_bedrockagentcorecontrol::types::AuthorizerType;
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Aws;
use crate::model::*;
use crate::names::{self, POLICY_NAME, RoleOwner, TAG_PROJECT, TAG_RESOURCE};

fn moto_url() -> Option<String> {
    std::env::var("AGENTFORM_MOTO_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

async fn connect(url: &str) -> Aws {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await;
    Aws::from_conf(&conf, Duration::from_secs(60))
}

#[derive(Default)]
struct Notes(Mutex<Vec<String>>);
impl Progress for Notes {
    fn note(&self, addr: &Address, message: &str) {
        self.0.lock().unwrap().push(format!("{addr}: {message}"));
    }
}

fn zip_of(source: &str) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("handler.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(source.as_bytes()).unwrap();
    w.finish().unwrap().into_inner()
}

fn sha(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn tags(project: &str, addr: &Address, extra: &[(&str, &str)]) -> Tags {
    let mut t: Tags = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    t.insert(TAG_PROJECT.into(), project.into());
    t.insert(TAG_RESOURCE.into(), addr.to_string());
    t
}

/// The comparable part of a config: what the planner diffs.
fn attrs(c: &Config) -> BTreeMap<&'static str, Value> {
    c.attrs()
}

fn find<'a>(obs: &'a [Observed], kind: Kind, name: &str) -> &'a Observed {
    let hits: Vec<&Observed> = obs
        .iter()
        .filter(|o| o.kind == kind && o.name == name)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one {} {name}, got {hits:#?}",
        kind.label()
    );
    hits[0]
}

struct Stack {
    role: Desired,
    policy: Desired,
    repo: Desired,
    function: Desired,
    gateway: Desired,
    target: Desired,
    runtime: Desired,
}

impl Stack {
    fn all(&self) -> [&Desired; 7] {
        [
            &self.role,
            &self.policy,
            &self.repo,
            &self.function,
            &self.gateway,
            &self.target,
            &self.runtime,
        ]
    }
    fn lookups(&self) -> Vec<Lookup> {
        self.all()
            .iter()
            .map(|d| {
                let (name, parent) = match &d.config {
                    Config::Role(c) => (c.name.clone(), None),
                    Config::RolePolicy(c) => (c.name.clone(), Some(c.role.clone())),
                    Config::Repository(c) => (c.name.clone(), None),
                    Config::Function(c) => (c.name.clone(), None),
                    Config::Gateway(c) => (c.name.clone(), None),
                    Config::Target(c) => (c.name.clone(), Some(c.gateway.clone())),
                    Config::Runtime(c) => (c.name.clone(), None),
                };
                Lookup {
                    kind: d.addr.kind,
                    name,
                    parent,
                }
            })
            .collect()
    }
}

fn desired(project: &str, account: &Account) -> Stack {
    let role_addr = Address::new(Kind::Role, "gateway-main");
    let role_name = names::role(project, RoleOwner::Gateway, "main");
    let path = names::role_path(project);
    let role_arn = account.role_arn(&path, &role_name);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["bedrock-agentcore.amazonaws.com", "lambda.amazonaws.com"]}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": account.id}}}]});
    let role = Desired {
        addr: role_addr.clone(),
        deps: vec![],
        config: Config::Role(RoleConfig {
            name: role_name.clone(),
            path: path.clone(),
            trust_policy: trust,
            description: "gateway role for main (a+b test)".into(),
            tags: tags(project, &role_addr, &[("team", "platform")]),
        }),
    };
    let fn_name = names::function(project, "tools");
    let policy = Desired {
        addr: Address::new(Kind::RolePolicy, "gateway-main"),
        deps: vec![role_addr.clone()],
        config: Config::RolePolicy(RolePolicyConfig {
            role: role_name.clone(),
            name: POLICY_NAME.into(),
            document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [account.function_arn(&fn_name), format!("{}:*", account.function_arn(&fn_name))]}]}),
        }),
    };
    let repo_addr = Address::new(Kind::Repository, "agent");
    let repo_name = names::repository(project, "agent");
    let repo = Desired {
        addr: repo_addr.clone(),
        deps: vec![],
        config: Config::Repository(RepositoryConfig {
            name: repo_name.clone(),
            scan_on_push: false,
            tag_mutability: "IMMUTABLE".into(),
            force_delete: false,
            tags: tags(project, &repo_addr, &[]),
        }),
    };
    let code = zip_of("def lambda_handler(event, context):\n    return event\n");
    let fn_addr = Address::new(Kind::Function, "tools");
    let function = Desired {
        addr: fn_addr.clone(),
        deps: vec![role_addr.clone()],
        config: Config::Function(FunctionConfig {
            name: fn_name.clone(),
            runtime: "python3.12".into(),
            handler: "handler.lambda_handler".into(),
            memory: 256,
            timeout: 30,
            architecture: "arm64".into(),
            description: String::new(),
            role_arn: role_arn.clone(),
            environment: [("LOG_LEVEL".to_string(), "debug".to_string())].into(),
            code_sha256: sha(&code),
            code: Some(Code(Arc::new(code))),
            tags: tags(project, &fn_addr, &[("team", "platform")]),
        }),
    };
    let gw_addr = Address::new(Kind::Gateway, "main");
    let gw_name = names::gateway(project, "main");
    let gateway = Desired {
        addr: gw_addr.clone(),
        deps: vec![role_addr.clone()],
        config: Config::Gateway(GatewayConfig {
            name: gw_name.clone(),
            description: "main gateway".into(),
            role_arn: role_arn.clone(),
            authorizer: GatewayAuthorizer::AwsIam,
            protocol_type: "MCP".into(),
            semantic_search: true,
            tags: tags(project, &gw_addr, &[]),
        }),
    };
    let target = Desired {
        addr: Address::new(Kind::GatewayTarget, "main/tools"),
        deps: vec![gw_addr.clone(), fn_addr.clone()],
        config: Config::Target(TargetConfig {
            gateway: gw_name.clone(),
            name: names::target("tools"),
            description: String::new(),
            lambda_arn: account.function_arn(&fn_name),
            tools: vec![
                ToolDef {
                    name: "add_numbers".into(),
                    description: "Add two numbers".into(),
                    input: json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number", "description": "second"}}, "required": ["a", "b"]}),
                    output: Some(
                        json!({"type": "object", "properties": {"sum": {"type": "number"}}}),
                    ),
                },
                ToolDef {
                    name: "tag_list".into(),
                    description: "Echo tags".into(),
                    input: json!({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}),
                    output: None,
                },
            ],
            credential_provider: "GATEWAY_IAM_ROLE".into(),
        }),
    };
    let rt_addr = Address::new(Kind::Runtime, "agent");
    let runtime = Desired {
        addr: rt_addr.clone(),
        deps: vec![repo_addr.clone(), role_addr.clone(), gw_addr.clone()],
        config: Config::Runtime(RuntimeConfig {
            name: names::runtime(project, "agent"),
            description: String::new(),
            role_arn: role_arn.clone(),
            container_uri: format!("{}:latest", account.repository_uri(&repo_name)),
            network_mode: "PUBLIC".into(),
            protocol: "HTTP".into(),
            environment: [(
                "BEDROCK_MODEL_ID".to_string(),
                "us.anthropic.claude".to_string(),
            )]
            .into(),
            tags: tags(project, &rt_addr, &[("team", "platform")]),
        }),
    };
    Stack {
        role,
        policy,
        repo,
        function,
        gateway,
        target,
        runtime,
    }
}

/// Each desired resource is observed once, ours, with an equal config.
fn assert_matches(obs: &[Observed], stack: &Stack) {
    for d in stack.all() {
        let name = match &d.config {
            Config::Role(c) => &c.name,
            Config::RolePolicy(c) => &c.name,
            Config::Repository(c) => &c.name,
            Config::Function(c) => &c.name,
            Config::Gateway(c) => &c.name,
            Config::Target(c) => &c.name,
            Config::Runtime(c) => &c.name,
        };
        let o = find(obs, d.addr.kind, name);
        assert_eq!(o.owner, Owner::Ours(d.addr.clone()), "owner of {}", d.addr);
        assert_eq!(
            attrs(&o.config),
            attrs(&d.config),
            "read-back config of {} differs",
            d.addr
        );
        if let (Config::Function(want), Config::Function(have)) = (&d.config, &o.config) {
            assert_eq!(have.code, None);
            assert_eq!(have.code_sha256, want.code_sha256);
        }
    }
}

#[tokio::test]
#[ignore = "needs a moto server in AGENTFORM_MOTO_URL; tests/lifecycle.rs covers the same path in CI"]
async fn lifecycle_against_moto() {
    let url =
        moto_url().expect("set AGENTFORM_MOTO_URL to a running moto server (see the module docs)");
    let aws = connect(&url).await;
    let account = aws.account().await.unwrap();
    assert_eq!(
        (account.region.as_str(), account.partition.as_str()),
        ("us-east-1", "aws")
    );

    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let project = format!("af-{:x}", nanos % 0xffff_ffff);
    let notes = Notes::default();
    let mut stack = desired(&project, &account);
    let no_parent = Ids::default();

    // --- create
    let role_ids = aws.create(&stack.role, &no_parent, &notes).await.unwrap();
    assert!(
        role_ids
            .arn
            .as_deref()
            .unwrap()
            .ends_with(&format!("role/agentform/{project}/{project}-gw-main")),
        "{role_ids:?}"
    );
    aws.create(&stack.policy, &role_ids, &notes).await.unwrap();
    let repo_ids = aws.create(&stack.repo, &no_parent, &notes).await.unwrap();
    assert!(
        repo_ids
            .url
            .as_deref()
            .unwrap()
            .ends_with(&format!("/{project}/agent")),
        "{repo_ids:?}"
    );
    let fn_ids = aws
        .create(&stack.function, &no_parent, &notes)
        .await
        .unwrap();
    assert_eq!(
        fn_ids.arn.as_deref(),
        Some(account.function_arn(&format!("{project}-tools")).as_str())
    );
    let gw_ids = aws
        .create(&stack.gateway, &no_parent, &notes)
        .await
        .unwrap();
    assert!(
        gw_ids.id.is_some() && gw_ids.url.is_some() && gw_ids.arn.is_some(),
        "{gw_ids:?}"
    );
    let target_ids = aws.create(&stack.target, &gw_ids, &notes).await.unwrap();
    assert!(target_ids.id.is_some());
    let rt_ids = aws
        .create(&stack.runtime, &no_parent, &notes)
        .await
        .unwrap();
    assert!(rt_ids.id.is_some() && rt_ids.arn.is_some());
    eprintln!(
        "progress notes while creating: {:#?}",
        notes.0.lock().unwrap()
    );

    // Creating again (what an SDK retry of a create that had succeeded
    // amounts to) adopts the resource when its ownership tags are ours...
    assert_eq!(
        aws.create(&stack.role, &no_parent, &notes).await.unwrap(),
        role_ids
    );
    assert_eq!(
        aws.create(&stack.repo, &no_parent, &notes).await.unwrap(),
        repo_ids
    );
    // ...and refuses when they are not.
    let mut imposter = stack.role.clone();
    imposter.addr = Address::new(Kind::Role, "someone-else");
    if let Config::Role(c) = &mut imposter.config {
        c.tags = tags(&project, &imposter.addr, &[]);
    }
    let err = aws.create(&imposter, &no_parent, &notes).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("already exists and is not this one"),
        "{err:#}"
    );
    assert!(
        format!("{err:#}").contains("EntityAlreadyExists"),
        "{err:#}"
    );

    // --- observe: equal read-back
    let obs = aws
        .observe(&account, &project, &stack.lookups())
        .await
        .unwrap();
    assert_eq!(obs.len(), 7, "{obs:#?}");
    assert_matches(&obs, &stack);
    let policy = find(&obs, Kind::RolePolicy, POLICY_NAME);
    assert_eq!(
        policy.parent.as_deref(),
        Some(format!("{project}-gw-main").as_str())
    );
    let target = find(&obs, Kind::GatewayTarget, "tools");
    assert_eq!(
        target.parent.as_deref(),
        Some(format!("{project}-main").as_str())
    );
    assert_eq!(target.parent_ids, gw_ids);
    assert_eq!(target.status.as_deref(), Some("READY"));
    let gw = find(&obs, Kind::Gateway, &format!("{project}-main"));
    assert_eq!(gw.ids, gw_ids);
    assert_eq!(
        find(&obs, Kind::Runtime, &names::runtime(&project, "agent")).ids,
        rt_ids
    );

    // Orphans: observing with no lookups still finds everything tagged ours.
    let orphans = aws.observe(&account, &project, &[]).await.unwrap();
    assert_eq!(orphans.len(), 7, "{orphans:#?}");
    assert_matches(&orphans, &stack);

    // Foreign and twin gateways: a same-named untagged twin, and a
    // project-prefixed gateway of another project.
    let raw = &aws.agentcore;
    let twin = raw
        .create_gateway()
        .name(format!("{project}-main"))
        .role_arn(account.role_arn("/", "someone-else"))
        .authorizer_type(AuthorizerType::AwsIam)
        .protocol_type(aws_sdk_bedrockagentcorecontrol::types::GatewayProtocolType::Mcp)
        .send()
        .await
        .unwrap();
    let other = raw
        .create_gateway()
        .name(format!("{project}-other"))
        .role_arn(account.role_arn("/", "someone-else"))
        .authorizer_type(AuthorizerType::AwsIam)
        .protocol_type(aws_sdk_bedrockagentcorecontrol::types::GatewayProtocolType::Mcp)
        .tags(TAG_PROJECT, format!("{project}-x"))
        .send()
        .await
        .unwrap();
    let obs = aws
        .observe(&account, &project, &stack.lookups())
        .await
        .unwrap();
    let twins: Vec<&Observed> = obs
        .iter()
        .filter(|o| o.kind == Kind::Gateway && o.name == format!("{project}-main"))
        .collect();
    assert_eq!(twins.len(), 2, "{twins:#?}");
    assert!(
        twins
            .iter()
            .any(|o| o.owner == Owner::Foreign && o.ids.id.as_deref() == Some(twin.gateway_id()))
    );
    assert!(
        !obs.iter().any(|o| o.name == format!("{project}-other")),
        "another project's gateway is not ours and was not looked up"
    );
    let mut with_other = stack.lookups();
    with_other.push(Lookup {
        kind: Kind::Gateway,
        name: format!("{project}-other"),
        parent: None,
    });
    let obs = aws.observe(&account, &project, &with_other).await.unwrap();
    assert_eq!(
        find(&obs, Kind::Gateway, &format!("{project}-other")).owner,
        Owner::OtherProject(format!("{project}-x"))
    );
    for id in [twin.gateway_id(), other.gateway_id()] {
        raw.delete_gateway()
            .gateway_identifier(id)
            .send()
            .await
            .unwrap();
    }

    // --- update every resource
    let obs = aws
        .observe(&account, &project, &stack.lookups())
        .await
        .unwrap();
    let current = |d: &Desired, name: &str| find(&obs, d.addr.kind, name).clone();
    if let Config::Role(c) = &mut stack.role.config {
        c.description = "changed".into();
        c.trust_policy["Statement"][0]["Principal"]["Service"] =
            json!("bedrock-agentcore.amazonaws.com");
        c.tags.remove("team");
        c.tags.insert("cost".into(), "42".into());
    }
    if let Config::RolePolicy(c) = &mut stack.policy.config {
        c.document["Statement"][0]["Action"] =
            json!(["lambda:InvokeFunction", "lambda:GetFunction"]);
    }
    if let Config::Repository(c) = &mut stack.repo.config {
        // true -> false is not testable on moto: the SDK omits a false
        // `scanOnPush` (the API default) and moto ignores the empty object.
        c.scan_on_push = true;
        c.tag_mutability = "MUTABLE".into();
        c.tags.insert("team".into(), "ml".into());
    }
    if let Config::Function(c) = &mut stack.function.config {
        let code = zip_of("def lambda_handler(event, context):\n    return {'v': 2}\n");
        c.code_sha256 = sha(&code);
        c.code = Some(Code(Arc::new(code)));
        c.memory = 512;
        c.description = "tools v2".into();
        c.environment.insert("EXTRA".into(), "1".into());
        c.tags.insert("team".into(), "ml".into());
    }
    if let Config::Gateway(c) = &mut stack.gateway.config {
        c.description = "main gateway v2".into();
        c.semantic_search = false;
        c.tags.insert("team".into(), "ml".into());
    }
    if let Config::Target(c) = &mut stack.target.config {
        c.description = "tools target".into();
        c.tools.push(ToolDef {
            name: "ping".into(),
            description: "Ping".into(),
            input: json!({"type": "object"}),
            output: None,
        });
        c.tools[0].description = "Add two numbers, exactly".into();
    }
    if let Config::Runtime(c) = &mut stack.runtime.config {
        c.description = "agent v2".into();
        c.protocol = "MCP".into();
        c.environment
            .insert("GATEWAY_URL".into(), gw_ids.url.clone().unwrap());
        c.tags.remove("team");
    }
    let names_of = |s: &Stack| s.lookups().into_iter().map(|l| l.name).collect::<Vec<_>>();
    let names = names_of(&stack);
    let notes = Notes::default();
    for (d, name) in stack.all().into_iter().zip(names.iter()) {
        let cur = current(d, name);
        let ids = aws
            .update(d, &cur, &notes)
            .await
            .unwrap_or_else(|e| panic!("updating {}: {e:#}", d.addr));
        assert_eq!(ids.id, cur.ids.id, "{}", d.addr);
    }
    eprintln!(
        "progress notes while updating: {:#?}",
        notes.0.lock().unwrap()
    );
    let obs = aws
        .observe(&account, &project, &stack.lookups())
        .await
        .unwrap();
    assert_eq!(obs.len(), 7, "{obs:#?}");
    assert_matches(&obs, &stack);

    // --- delete (dependents first), twice: the second is a no-op.
    let mut order: Vec<&Observed> = obs.iter().collect();
    order.sort_by_key(|o| o.kind.delete_rank());
    for round in 0..2 {
        for o in &order {
            aws.delete(o, true, &notes)
                .await
                .unwrap_or_else(|e| panic!("delete round {round} of {}: {e:#}", o.name));
        }
    }
    let obs = aws
        .observe(&account, &project, &stack.lookups())
        .await
        .unwrap();
    assert!(obs.is_empty(), "{obs:#?}");
}

#[tokio::test]
#[ignore = "needs a moto server in AGENTFORM_MOTO_URL; tests/faults.rs covers error paths in CI"]
async fn errors_name_the_operation_and_the_service_message() {
    let url =
        moto_url().expect("set AGENTFORM_MOTO_URL to a running moto server (see the module docs)");
    let aws = connect(&url).await;
    let account = aws.account().await.unwrap();
    let addr = Address::new(Kind::Function, "nope");
    // The role does not exist: Lambda says it cannot be assumed, which is
    // retried as IAM propagation (bounded); use a short wait to see it.
    let d = Desired {
        addr: addr.clone(),
        deps: vec![],
        config: Config::Function(FunctionConfig {
            name: "agentform-test-no-role".into(),
            runtime: "python3.12".into(),
            handler: "h.h".into(),
            memory: 128,
            timeout: 3,
            architecture: "x86_64".into(),
            description: String::new(),
            role_arn: account.role_arn("/", "does-not-exist"),
            environment: BTreeMap::new(),
            code_sha256: String::new(),
            code: Some(Code(Arc::new(zip_of("x = 1\n")))),
            tags: Tags::new(),
        }),
    };
    let notes = Notes::default();
    let err = tokio::time::timeout(
        Duration::from_secs(4),
        aws.create(&d, &Ids::default(), &notes),
    )
    .await;
    assert!(err.is_err(), "still retrying after 4s");
    {
        let notes = notes.0.lock().unwrap();
        assert!(
            notes.iter().any(|n| n.contains("IAM role not usable yet")
                && n.contains("InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda")),
            "{notes:#?}"
        );
    }

    // A plain failure: the message has the operation, the name and the service's words.
    let gone = Observed {
        kind: Kind::Gateway,
        name: "missing".into(),
        parent: None,
        ids: Ids {
            id: Some("nonexistent0".into()),
            ..Ids::default()
        },
        parent_ids: Ids::default(),
        status: None,
        status_reasons: vec![],
        owner: Owner::Foreign,
        config: Config::Gateway(GatewayConfig {
            name: "missing".into(),
            description: String::new(),
            role_arn: String::new(),
            authorizer: GatewayAuthorizer::AwsIam,
            protocol_type: "MCP".into(),
            semantic_search: false,
            tags: Tags::new(),
        }),
    };
    aws.delete(&gone, false, &NoProgress)
        .await
        .expect("deleting what is not there is a success");
    let err = aws
        .update(
            &Desired {
                addr: Address::new(Kind::Gateway, "missing"),
                deps: vec![],
                config: gone.config.clone(),
            },
            &gone,
            &NoProgress,
        )
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no longer exists"), "{err:#}");
    let bad = aws
        .iam
        .get_role()
        .role_name("agentform-definitely-missing")
        .send()
        .await;
    let err = super::SdkResultExt::ctx(bad, || {
        "reading IAM role agentform-definitely-missing".into()
    })
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.starts_with("reading IAM role agentform-definitely-missing: NoSuchEntity: "),
        "{text}"
    );
    assert!(super::is_not_found(&err));
}
