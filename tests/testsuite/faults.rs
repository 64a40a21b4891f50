//! Fault tolerance against a real moto server: the `agentform` binary talks
//! to moto through a loopback proxy (`harness/fault_proxy.rs`) that injects
//! throttling, 5xx, dropped connections, lost responses, latency and
//! IAM-propagation errors. Whatever the proxy does, apply and destroy must
//! end with exactly the account the spec asks for: no twins, nothing left
//! behind, and a plan with no changes. A hard error must fail fast, say what
//! the service said, and leave a state the next run continues from.
//!
//! The account is always checked through the official SDK directly against
//! moto, never through the proxy.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_iam::config::Credentials;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::harness::fault_proxy::{Fault, FaultProxy, Match, Rule};
use crate::harness::reference::check_stack;
use crate::harness::{Output, REGION, Sdk, Test, moto, sdk};

/// Runs the CLI with its AWS traffic going through `proxy`.
fn run_via(t: &Test, proxy: &FaultProxy, args: &[&str]) -> Output {
    t.run_env(args, &[("AWS_ENDPOINT_URL", proxy.url())])
}

/// `what` and the proxy's journal, for assertion messages.
fn with_journal(what: &Output, proxy: &FaultProxy) -> String {
    format!("{what}\n--- proxy journal ---\n{}", proxy.journal_text())
}

/// The lines of `stderr` that mention `needle`.
fn lines_with<'a>(stderr: &'a str, needle: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(needle)).collect()
}

// Request shapes of the operations the tests disturb.
fn create_gateway() -> Match {
    Match::rest("POST", "/gateways/?")
}
fn get_gateway() -> Match {
    Match::rest("GET", "/gateways/[^/]+/?")
}
fn delete_gateway() -> Match {
    Match::rest("DELETE", "/gateways/[^/]+/?")
}
fn create_target() -> Match {
    Match::rest("POST", "/gateways/[^/]+/targets/?")
}
fn delete_target() -> Match {
    Match::rest("DELETE", "/gateways/[^/]+/targets/[^/]+/?")
}
fn create_runtime() -> Match {
    Match::rest("PUT", "/runtimes/?")
}
fn delete_runtime() -> Match {
    Match::rest("DELETE", "/runtimes/[^/]+/?")
}
fn create_function() -> Match {
    Match::rest("POST", "/2015-03-31/functions/?")
}

// ---------------------------------------------------------------------------
// The proxy itself

/// Official SDK clients that go through `url` and never retry, so each
/// call shows exactly what the proxy answered.
async fn clients_via(url: &str) -> Sdk {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "agentform-tests",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    Sdk {
        iam: aws_sdk_iam::Client::new(&conf),
        lambda: aws_sdk_lambda::Client::new(&conf),
        ecr: aws_sdk_ecr::Client::new(&conf),
        agentcore: aws_sdk_bedrockagentcorecontrol::Client::new(&conf),
        sts: aws_sdk_sts::Client::new(&conf),
        ssm: aws_sdk_ssm::Client::new(&conf),
        secrets: aws_sdk_secretsmanager::Client::new(&conf),
        cognito: aws_sdk_cognitoidentityprovider::Client::new(&conf),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        ),
    }
}

/// (HTTP status, error code, message) of a service error the SDK parsed.
#[track_caller]
fn service_error<T: std::fmt::Debug, E>(
    r: Result<T, SdkError<E, HttpResponse>>,
) -> (u16, String, String)
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    match r {
        Err(SdkError::ServiceError(e)) => (
            e.raw().status().as_u16(),
            e.err().code().unwrap_or_default().to_string(),
            e.err().message().unwrap_or_default().to_string(),
        ),
        other => panic!("expected a service error, got {other:?}"),
    }
}

/// Whether the call failed without any answer (connection trouble).
fn no_answer<T, E>(r: &Result<T, SdkError<E, HttpResponse>>) -> bool {
    matches!(r, Err(SdkError::DispatchFailure(_)))
}

/// The proxy answers in each service's own protocol (so the SDK parses the
/// injected errors into the codes agentform's retry logic looks at), hangs
/// up, loses responses, delays, lets requests through once a rule is spent,
/// and stops listening when dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_injects_each_fault() {
    let direct = sdk().await;
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![
            Rule::new(
                "GetRole throttled",
                Match::action("GetRole"),
                Fault::iam_throttling(),
            )
            .times(1),
            Rule::new(
                "ListGateways throttled",
                Match::rest("GET", "/gateways/?"),
                Fault::throttling(),
            )
            .times(1),
            Rule::new(
                "GetFunction role",
                Match::rest("GET", "/2015-03-31/functions/[^/]+/?"),
                Fault::lambda_role_not_assumable(),
            )
            .times(1),
            Rule::new(
                "ListAgentRuntimes role",
                Match::rest("POST", "/runtimes/?"),
                Fault::agentcore_role_validation("arn:aws:iam::123456789012:role/r"),
            )
            .times(1),
            // The next rule for the same request: applies once the first is spent.
            Rule::new(
                "ListAgentRuntimes slow",
                Match::rest("POST", "/runtimes/?"),
                Fault::Delay(Duration::from_millis(400)),
            )
            .times(1),
            Rule::new(
                "DescribeRepositories 503",
                Match::target("DescribeRepositories"),
                Fault::unavailable(),
            )
            .times(1),
            Rule::new("GetGateway dropped", get_gateway(), Fault::Drop).times(1),
            Rule::new(
                "CreateRole lost",
                Match::action("CreateRole"),
                Fault::LoseResponse,
            )
            .times(1),
        ],
    );
    let url = proxy.url().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let via = clients_via(&url).await;

    // Query protocol (IAM): XML <ErrorResponse>; once spent, moto answers.
    let r = via.iam.get_role().role_name("proxycheck-none").send().await;
    assert_eq!(
        service_error(r),
        (400, "Throttling".into(), "Rate exceeded".into())
    );
    let r = via.iam.get_role().role_name("proxycheck-none").send().await;
    assert!(
        r.as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_no_such_entity_exception()),
        "a spent rule lets the request through to moto: {r:?}"
    );

    // REST-JSON (AgentCore, Lambda): x-amzn-errortype and a JSON body.
    let r = via.agentcore.list_gateways().send().await;
    assert_eq!(
        service_error(r),
        (429, "ThrottlingException".into(), "Rate exceeded".into())
    );
    via.agentcore
        .list_gateways()
        .send()
        .await
        .expect("ListGateways passes through");
    let r = via
        .lambda
        .get_function()
        .function_name("proxycheck-none")
        .send()
        .await;
    assert_eq!(
        service_error(r),
        (
            400,
            "InvalidParameterValueException".into(),
            "The role defined for the function cannot be assumed by Lambda.".into()
        )
    );
    let r = via.agentcore.list_agent_runtimes().send().await;
    let (status, code, message) = service_error(r);
    assert_eq!((status, code.as_str()), (400, "ValidationException"));
    assert!(
        message.starts_with("Role validation failed for 'arn:aws:iam::123456789012:role/r'"),
        "{message}"
    );

    // Latency, then moto's answer.
    let started = Instant::now();
    via.agentcore
        .list_agent_runtimes()
        .send()
        .await
        .expect("ListAgentRuntimes passes through, late");
    assert!(started.elapsed() >= Duration::from_millis(400));

    // AWS-JSON (ECR): `__type` in the body.
    let r = via.ecr.describe_repositories().send().await;
    let (status, code, _) = service_error(r);
    assert_eq!(
        (status, code.as_str()),
        (503, "ServiceUnavailableException")
    );

    // A dropped connection: no answer at all.
    let r = via
        .agentcore
        .get_gateway()
        .gateway_identifier("proxycheck0000")
        .send()
        .await;
    assert!(no_answer(&r), "expected a dispatch failure, got {r:?}");

    // A lost response: no answer, yet the call took effect.
    let r = via
        .iam
        .create_role()
        .role_name("proxycheck-lost")
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await;
    assert!(no_answer(&r), "expected a dispatch failure, got {r:?}");
    assert!(
        direct.role("proxycheck-lost").await.is_some(),
        "the request behind a lost response reached moto"
    );
    direct
        .iam
        .delete_role()
        .role_name("proxycheck-lost")
        .send()
        .await
        .expect("DeleteRole");

    proxy.assert_spent();
    let journal = proxy.journal();
    assert_eq!(journal.len(), 10, "{}", proxy.journal_text());
    assert!(
        journal[0].starts_with("iam GetRole -> injected 400 Throttling"),
        "{}",
        proxy.journal_text()
    );

    // Bounded: once dropped, nothing listens on its port any more.
    drop(proxy);
    let addr = url.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the proxy still accepts connections after it was dropped"
    );
}

const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

// ---------------------------------------------------------------------------
// agentform through the proxy

/// Transient faults on the way (SDK-level: throttling, 5xx, a dropped
/// connection, latency; agentform-level: IAM propagation errors from Lambda
/// and AgentCore) cost time, nothing else: apply succeeds, the account holds
/// exactly one of everything, and the next plan has no changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_rides_out_transient_faults() {
    let p = "flaky";
    let t = Test::reference().project(p);
    let sdk = sdk().await;
    let account = sdk.account_id().await;
    let rt_role_arn = format!("arn:aws:iam::{account}:role/agentform/{p}/{p}-use1-rt-agent");
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![
            Rule::new(
                "CreateRole throttled",
                Match::action("CreateRole"),
                Fault::iam_throttling(),
            )
            .times(1),
            Rule::new(
                "CreateFunction role not assumable",
                create_function(),
                Fault::lambda_role_not_assumable(),
            )
            .times(2),
            Rule::new(
                "CreateGateway throttled",
                create_gateway(),
                Fault::throttling(),
            )
            .times(2),
            Rule::new("GetGateway dropped", get_gateway(), Fault::Drop).times(1),
            Rule::new(
                "CreateGatewayTarget slow",
                create_target(),
                Fault::Delay(Duration::from_secs(1)),
            )
            .times(1),
            Rule::new(
                "CreateAgentRuntime 503",
                create_runtime(),
                Fault::unavailable(),
            )
            .times(1),
            Rule::new(
                "CreateAgentRuntime role not valid yet",
                create_runtime(),
                Fault::agentcore_role_validation(&rt_role_arn),
            )
            .times(1),
        ],
    );

    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "apply failed\n{}", with_journal(&out, &proxy));
    let out = out.expect_stdout("Plan: 11 to add, 0 to change, 0 to replace, 0 to destroy.");
    proxy.assert_spent();

    // agentform's own retries of propagation errors are visible, with the
    // service's words and the backoff.
    let lambda_msg = "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.";
    let notes = lines_with(
        &out.stderr,
        "lambda_function.tools: IAM role not usable yet",
    );
    assert_eq!(notes.len(), 2, "two retry notes for the function\n{out}");
    assert!(
        notes[0].contains(&format!("retrying in 1.0s: {lambda_msg}"))
            && notes[1].contains(&format!("retrying in 2.0s: {lambda_msg}")),
        "{notes:#?}"
    );
    let notes = lines_with(&out.stderr, "runtime.agent: IAM role not usable yet");
    assert_eq!(notes.len(), 1, "one retry note for the runtime\n{out}");
    assert!(
        notes[0].contains(&format!(
            "retrying in 1.0s: ValidationException: Role validation failed for '{rt_role_arn}'"
        )),
        "{notes:#?}"
    );
    // The SDK's own retries (throttling, 5xx, connection) are silent.
    for word in [
        "Throttling",
        "ServiceUnavailable",
        "dispatch failure",
        "failed while",
    ] {
        assert!(
            !out.stderr.contains(word),
            "stderr mentions {word:?}\n{out}"
        );
    }

    // The account, read directly: exactly the stack, no twins.
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    let stack = check_stack(&sdk, p).await;
    assert_eq!(sdk.gateways_named(&format!("{p}-main")).await.len(), 1);
    assert_eq!(sdk.targets_of(&stack.gateway_id).await.len(), 1);
    assert_eq!(
        sdk.runtimes_named(&format!("{p}_agent")).await,
        [stack.runtime_id]
    );
    let roles = sdk.role_names_under(&format!("/agentform/{p}/")).await;
    assert_eq!(roles.len(), 3, "{roles:?}");
}

/// The end-of-run summary of a failed apply or destroy.
#[derive(Debug, Default)]
struct Summary {
    failed: Vec<(String, String)>,
    done: Vec<String>,
    not_started: Vec<String>,
}

impl Summary {
    fn parse(stderr: &str) -> Summary {
        let mut s = Summary::default();
        for line in stderr.lines() {
            if let Some(rest) = line.strip_prefix("  failed: ") {
                let (addr, error) = rest.split_once(": ").unwrap_or((rest, ""));
                s.failed.push((addr.to_string(), error.to_string()));
            } else if let Some(rest) = line.strip_prefix("  done: ") {
                let addr = rest.rsplit_once(" (").map_or(rest, |(a, _)| a);
                s.done.push(addr.to_string());
            } else if let Some(rest) = line.strip_prefix("  not started: ") {
                s.not_started.push(rest.to_string());
            }
        }
        s
    }

    fn all(&self) -> Vec<String> {
        let mut all: Vec<String> = self.failed.iter().map(|(a, _)| a.clone()).collect();
        all.extend(self.done.iter().cloned());
        all.extend(self.not_started.iter().cloned());
        all
    }
}

/// A hard error (access denied, every time) is not retried: apply stops
/// starting new work, exits 1 with the service's message, and its summary
/// accounts for every planned change exactly once, matching the account.
/// Once the cause is gone, a re-run does only what is left and converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_error_fails_fast_and_a_rerun_converges() {
    let p = "denied";
    let t = Test::reference().project(p);
    let sdk = sdk().await;
    let account = sdk.account_id().await;

    let planned: BTreeSet<String> = t
        .run(&["plan"])
        .expect_ok()
        .plan_headers()
        .iter()
        .map(|h| h.split(" will be ").next().unwrap().to_string())
        .collect();
    assert_eq!(planned.len(), 11, "{planned:?}");

    let denied = format!(
        "User: arn:aws:iam::{account}:user/ci-deployer is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:{REGION}:{account}:function:{p}-tools because no identity-based policy allows the lambda:CreateFunction action"
    );
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![Rule::new(
            "CreateFunction denied",
            create_function(),
            Fault::error(403, "AccessDeniedException", &denied),
        )],
    );
    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    let msg = with_journal(&out, &proxy);
    assert_eq!(out.code, 1, "{msg}");
    assert_eq!(
        proxy.fired("CreateFunction denied"),
        1,
        "access denied is retried by neither the SDK nor agentform\n{msg}"
    );
    assert!(out.stderr.contains("Apply failed."), "{msg}");
    assert!(out.stderr.contains("Nothing was rolled back"), "{msg}");

    // The summary: what failed (with the service's words), what was done,
    // what was not started; every planned change exactly once.
    let s = Summary::parse(&out.stderr);
    assert_eq!(s.failed.len(), 1, "{s:#?}\n{msg}");
    let (addr, error) = &s.failed[0];
    assert_eq!(addr, "lambda_function.tools", "{msg}");
    assert!(
        error.contains(&format!("AccessDeniedException: {denied}")),
        "the failure carries the service's message\n{msg}"
    );
    assert!(
        s.done.iter().any(|a| a == "iam_role.fn-tools"),
        "the function's role was made before the function: {s:#?}"
    );
    assert!(
        s.not_started
            .iter()
            .any(|a| a == "gateway_target.main/lambda-target"),
        "the target needs the function: {s:#?}"
    );
    let all = s.all();
    let listed: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), listed.len(), "listed twice: {s:#?}");
    assert_eq!(listed, planned, "summary vs plan: {s:#?}");

    // The account holds exactly what the summary says was done.
    let done = |a: &str| s.done.iter().any(|d| d == a);
    for a in planned.iter().filter(|a| a.starts_with("iam_role.")) {
        let name = format!("{p}-use1-{}", a.trim_start_matches("iam_role."));
        assert_eq!(sdk.role(&name).await.is_some(), done(a), "{a} ({name})");
    }
    let function = sdk
        .lambda
        .get_function()
        .function_name(format!("{p}-tools"))
        .send()
        .await;
    assert!(
        function.is_err(),
        "the denied function exists: {function:?}"
    );
    let gateways = sdk.gateways_named(&format!("{p}-main")).await;
    assert_eq!(gateways.len(), usize::from(done("gateway.main")), "{s:#?}");
    for g in &gateways {
        assert!(sdk.targets_of(g).await.is_empty());
    }
    assert_eq!(
        sdk.runtimes_named(&format!("{p}_agent")).await.len(),
        usize::from(done("runtime.agent")),
        "{s:#?}"
    );

    // The cause is gone: a re-run does what is left, and no more.
    drop(proxy);
    let left = s.failed.len() + s.not_started.len();
    t.run(&["apply", "--auto-approve"])
        .expect_ok()
        .expect_stdout(&format!(
            "Plan: {left} to add, 0 to change, 0 to replace, 0 to destroy."
        ));
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    let stack = check_stack(&sdk, p).await;
    assert_eq!(
        sdk.runtimes_named(&format!("{p}_agent")).await,
        [stack.runtime_id]
    );
}

/// Destroy through throttling, a 5xx and a lost response (the delete took
/// effect, the SDK retries it and hears "not found") leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_rides_out_transient_faults() {
    let p = "teardown";
    let t = Test::reference().project(p);
    let sdk = sdk().await;
    t.run(&["apply", "--auto-approve"]).expect_ok();
    let stack = check_stack(&sdk, p).await;

    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![
            Rule::new(
                "DeleteGatewayTarget throttled",
                delete_target(),
                Fault::throttling(),
            )
            .times(1),
            Rule::new(
                "DeleteAgentRuntime 503",
                delete_runtime(),
                Fault::unavailable(),
            )
            .times(1),
            Rule::new(
                "DeleteGateway response lost",
                delete_gateway(),
                Fault::LoseResponse,
            )
            .times(1),
            Rule::new(
                "DeleteRole throttled",
                Match::action("DeleteRole"),
                Fault::iam_throttling(),
            )
            .times(1),
        ],
    );
    let out = run_via(&t, &proxy, &["destroy", "--auto-approve"]);
    assert_eq!(
        out.code,
        0,
        "destroy failed\n{}",
        with_journal(&out, &proxy)
    );
    proxy.assert_spent();
    // The lost DeleteGateway was sent again and found the gateway gone.
    let deletes = proxy
        .journal()
        .iter()
        .filter(|l| l.contains(&format!("DELETE /gateways/{} ", stack.gateway_id)))
        .count();
    assert!(deletes >= 2, "{}", proxy.journal_text());

    let left = sdk.leftovers(p).await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
    t.run(&["destroy", "--auto-approve"])
        .expect_ok()
        .expect_stdout("Nothing to destroy");
}

/// A create whose response is lost (it took effect; the SDK sends it again
/// and hears "already exists") adopts what the first attempt made, because
/// its ownership tags say it is this very resource: no error, no twin.
///
/// Only for IAM, ECR and Lambda: AgentCore deduplicates a retried create by
/// its client token, which moto ignores (it would make a twin that real
/// AWS does not), so lost AgentCore creates cannot be tested against moto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_create_responses_make_no_twins() {
    let p = "lost";
    let t = Test::reference().project(p);
    let sdk = sdk().await;
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![
            Rule::new(
                "CreateRole response lost",
                Match::action("CreateRole"),
                Fault::LoseResponse,
            )
            .times(1),
            Rule::new(
                "PutRolePolicy response lost",
                Match::action("PutRolePolicy"),
                Fault::LoseResponse,
            )
            .times(1),
            Rule::new(
                "CreateRepository response lost",
                Match::target("CreateRepository"),
                Fault::LoseResponse,
            )
            .times(1),
            Rule::new(
                "CreateFunction response lost",
                create_function(),
                Fault::LoseResponse,
            )
            .times(1),
        ],
    );
    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    let msg = with_journal(&out, &proxy);
    assert_eq!(out.code, 0, "apply failed\n{msg}");
    proxy.assert_spent();
    // Each retried create met its own first attempt, and adopted it.
    for answer in [
        "iam CreateRole -> moto 409",
        "CreateRepository -> moto 400 RepositoryAlreadyExistsException",
        "lambda POST /2015-03-31/functions -> moto 409 ResourceConflictException",
    ] {
        assert!(
            proxy.journal().iter().any(|l| l.contains(answer)),
            "no {answer:?} in the journal\n{msg}"
        );
    }

    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    check_stack(&sdk, p).await;
    let roles = sdk.role_names_under(&format!("/agentform/{p}/")).await;
    assert_eq!(roles.len(), 3, "{roles:?}");
}

/// A caller that may not create gateways at all is a hard error too, and
/// should fail as fast as the same denial on a function or runtime does.
///
/// The caller's own AccessDenied on CreateGateway is not mistaken for the
/// new gateway role still propagating: apply fails at once, not after the
/// 120 s propagation window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_create_gateway_fails_fast() {
    let p = "gwdenied";
    let t = Test::reference().project(p);
    let sdk = sdk().await;
    let account = sdk.account_id().await;
    let denied = format!(
        "User: arn:aws:iam::{account}:user/ci-deployer is not authorized to perform: bedrock-agentcore:CreateGateway on resource: arn:aws:bedrock-agentcore:{REGION}:{account}:gateway/* because no identity-based policy allows the bedrock-agentcore:CreateGateway action"
    );
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![Rule::new(
            "CreateGateway denied",
            create_gateway(),
            Fault::error(403, "AccessDeniedException", &denied),
        )],
    );
    let started = Instant::now();
    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    let took = started.elapsed();
    let msg = with_journal(&out, &proxy);
    assert_eq!(out.code, 1, "{msg}");
    assert!(
        out.stderr.contains(&format!(
            "failed: gateway.main: creating gateway {p}-main: AccessDeniedException: {denied}"
        )),
        "{msg}"
    );
    assert_eq!(
        proxy.fired("CreateGateway denied"),
        1,
        "retried {took:?}\n{msg}"
    );
}

/// AWS refuses a second gateway or runtime of one name (moto does not):
/// a create whose first attempt took effect but whose answer was lost meets
/// ConflictException on the SDK's retry. Apply adopts the resource only
/// because it carries this very resource's ownership tags; no twin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_on_create_adopts_only_our_own_resource() {
    let t = Test::reference().project("adopt");
    let sdk = sdk().await;
    let conflict = |what: &str| {
        Fault::error(
            409,
            "ConflictException",
            &format!("{what} with this name already exists"),
        )
    };
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![
            Rule::new("CreateGateway lost", create_gateway(), Fault::LoseResponse).times(1),
            Rule::new(
                "CreateGateway conflict",
                create_gateway(),
                conflict("A gateway"),
            )
            .times(1),
            Rule::new(
                "CreateAgentRuntime lost",
                create_runtime(),
                Fault::LoseResponse,
            )
            .times(1),
            Rule::new(
                "CreateAgentRuntime conflict",
                create_runtime(),
                conflict("An agent runtime"),
            )
            .times(1),
        ],
    );
    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{}", with_journal(&out, &proxy));
    let journal = proxy.journal_text();
    assert!(journal.contains("CreateGateway conflict"), "{journal}");
    assert!(journal.contains("CreateAgentRuntime conflict"), "{journal}");
    check_stack(&sdk, "adopt").await;
    t.run(&["plan", "--detailed-exitcode"])
        .expect_code(0)
        .expect_stdout("No changes");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_on_create_with_nothing_of_ours_fails_clearly() {
    let t = Test::reference().project("noadopt");
    let sdk = sdk().await;
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![
            Rule::new(
                "CreateGateway conflict",
                create_gateway(),
                Fault::error(
                    409,
                    "ConflictException",
                    "A gateway with this name already exists",
                ),
            )
            .times(1),
        ],
    );
    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    assert_eq!(out.code, 1, "{}", with_journal(&out, &proxy));
    assert!(
        out.stderr
            .contains("a gateway named noadopt-main already exists and is not this one"),
        "{out}"
    );
    assert!(sdk.gateways_named("noadopt-main").await.is_empty());
    t.run(&["apply", "--auto-approve"]).expect_ok();
    check_stack(&sdk, "noadopt").await;
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}

/// Each class of AWS failure comes with what to do about it, the AWS error
/// code and the spec line of the resource (snapshots, account and request
/// ids masked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_class_says_what_to_do() {
    let p = "errclass";
    let t = Test::reference().project(p);
    let account = sdk().await.account_id().await;
    let mask = |text: &str| {
        let text = text.replace(&account, "<account>");
        let rid = regex::Regex::new(r"request id [A-Za-z0-9-]+").unwrap();
        rid.replace_all(&text, "request id <id>").into_owned()
    };
    // From the first failure on: the progress lines before it carry timings.
    let tail = |stderr: &str| {
        let from = stderr.find("error:").unwrap_or(0);
        mask(&stderr[from..])
    };

    let denied = format!(
        "User: arn:aws:iam::{account}:user/ci-deployer is not authorized to perform: bedrock-agentcore:ListGateways on resource: arn:aws:bedrock-agentcore:{REGION}:{account}:gateway/* because no identity-based policy allows the bedrock-agentcore:ListGateways action"
    );
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![Rule::new(
            "ListGateways denied",
            Match::rest("GET", "/gateways/?"),
            Fault::error(403, "AccessDeniedException", &denied),
        )],
    );
    let out = run_via(&t, &proxy, &["plan"]);
    assert_eq!(out.code, 1, "{out}");
    insta::assert_snapshot!("error_access_denied", tail(&out.stderr));

    // An apply whose CreateGateway gets `fault`: the summary's lines for the
    // gateway (the failure, its hint, its place in the spec).
    let gateway_failure = |fault: Fault| {
        let proxy = FaultProxy::start(
            &moto().endpoint,
            vec![Rule::new("gateway refused", create_gateway(), fault)],
        );
        let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
        assert_eq!(out.code, 1, "{out}");
        let failed: Vec<&str> = out
            .stderr
            .lines()
            .skip_while(|l| !l.starts_with("  failed: gateway.main"))
            .take(3)
            .collect();
        mask(&failed.join("\n"))
    };
    insta::assert_snapshot!(
        "error_quota",
        gateway_failure(Fault::error(
            402,
            "ServiceQuotaExceededException",
            "The maximum number of gateways per account (1000) has been reached",
        ))
    );
    insta::assert_snapshot!(
        "error_validation",
        gateway_failure(Fault::error(
            400,
            "ValidationException",
            "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 200",
        ))
    );

    let out = t.run(&["plan", "--region", "mars-1"]);
    assert_eq!(out.code, 1, "{out}");
    insta::assert_snapshot!("error_unknown_region", out.stderr);

    // Under --json the same failure is a diagnostic on stdout.
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![Rule::new(
            "ListGateways denied",
            Match::rest("GET", "/gateways/?"),
            Fault::error(403, "AccessDeniedException", &denied),
        )],
    );
    let out = run_via(&t, &proxy, &["plan", "--json"]);
    assert_eq!(out.code, 1, "{out}");
    let v = crate::saved::valid_json("diagnostics.schema.json", &out.stdout);
    assert!(
        v["diagnostics"][0]["detail"].as_str().unwrap().contains(
            "hint: the identity running agentform may not call bedrock-agentcore:ListGateways"
        ),
        "{v:#}"
    );
    t.run(&["destroy", "--auto-approve"]).expect_ok();
}

/// The most requests matching `method` + `path` that arrived within any
/// window of 0.9 s (half open): at 5 per second, six requests span at least
/// a second when sent; 0.1 s is left for the way to the proxy on a busy
/// machine.
/// The reference stack with `extra` more targets on its gateway.
fn with_targets(project: &str, extra: usize) -> Test {
    let t = Test::reference().project(project);
    let mut more = String::new();
    for i in 1..=extra {
        more.push_str(&format!(
            "      t{i:02}:\n        function: tools\n        tools:\n          - name: tool{i:02}\n            description: Tool {i}\n            input: {{type: object}}\n"
        ));
    }
    t.edit_spec("    targets:\n", &format!("    targets:\n{more}"));
    t
}

#[tokio::test]
async fn at_most_five_target_operations_per_gateway_at_once() {
    // Rates four times AWS's, so that without the cap twelve creates would
    // all be sent within 0.6 s; a target operation lasts at least moto's
    // transition (0.5 s), so the (k+5)-th create can only come once the
    // k-th target is ready.
    let t = with_targets("conc", 11);
    let proxy = FaultProxy::start(&moto().endpoint, vec![]);
    let out = t.run_env(
        &["apply", "--auto-approve", "--rate-scale", "4"],
        &[("AWS_ENDPOINT_URL", proxy.url())],
    );
    assert_eq!(out.code, 0, "{}", with_journal(&out, &proxy));
    let creates = regex::Regex::new(r"^/gateways/[^/]+/targets/?$").unwrap();
    let times: Vec<Instant> = proxy
        .arrivals()
        .into_iter()
        .filter(|(_, m, p)| m == "POST" && creates.is_match(p))
        .map(|(t, _, _)| t)
        .collect();
    assert_eq!(times.len(), 12);
    for k in 0..times.len() - 5 {
        let gap = times[k + 5].duration_since(times[k]);
        assert!(
            gap >= Duration::from_millis(450),
            "create {} came {gap:?} after create {}: more than 5 target operations at once",
            k + 6,
            k + 1
        );
    }
    let out = run_via(&t, &proxy, &["destroy", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out}");
}

#[tokio::test]
async fn throttling_never_fails_apply_or_destroy_and_is_reported() {
    // More throttles on each API than the SDK's default 5 attempts would
    // ride out for one request, on creates, reads and deletes.
    let t = with_targets("storm", 3);
    let proxy = FaultProxy::start(
        &moto().endpoint,
        vec![
            Rule::new("CreateGatewayTarget", create_target(), Fault::throttling()).times(7),
            Rule::new("GetGateway", get_gateway(), Fault::throttling()).times(6),
            Rule::new(
                "CreateRole",
                Match::action("CreateRole"),
                Fault::iam_throttling(),
            )
            .times(6),
            Rule::new("DeleteGatewayTarget", delete_target(), Fault::throttling()).times(7),
            Rule::new("DeleteAgentRuntime", delete_runtime(), Fault::throttling()).times(6),
        ],
    );
    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{}", with_journal(&out, &proxy));
    assert!(
        out.stderr.contains("note: AWS throttled")
            && out.stderr.contains("CreateGatewayTarget 7")
            && out.stderr.contains("CreateRole 6"),
        "{out}"
    );
    t.run_env(
        &["plan", "--detailed-exitcode"],
        &[("AWS_ENDPOINT_URL", proxy.url())],
    )
    .expect_code(0);
    let out = run_via(&t, &proxy, &["destroy", "--auto-approve"]);
    assert_eq!(out.code, 0, "{}", with_journal(&out, &proxy));
    assert!(out.stderr.contains("DeleteGatewayTarget 7"), "{out}");
    proxy.assert_spent();
    assert!(sdk().await.leftovers("storm").await.is_empty());
}

fn peak_per_second(proxy: &FaultProxy, method: &str, path: &regex::Regex) -> usize {
    let times: Vec<Instant> = proxy
        .arrivals()
        .into_iter()
        .filter(|(_, m, p)| m == method && path.is_match(p))
        .map(|(t, _, _)| t)
        .collect();
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| t.duration_since(times[i]) < Duration::from_millis(900))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// AgentCore allows about 5 CreateGatewayTarget requests per second: with
/// twelve targets ready at once, agentform still sends at most five in any
/// second (counted at the proxy), and the apply succeeds in one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_creates_keep_to_the_rate_quota() {
    let t = with_targets("rate", 11);
    let proxy = FaultProxy::start(&moto().endpoint, vec![]);
    let out = run_via(&t, &proxy, &["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{}", with_journal(&out, &proxy));
    let creates = regex::Regex::new(r"^/gateways/[^/]+/targets/?$").unwrap();
    let n = proxy
        .arrivals()
        .iter()
        .filter(|(_, m, p)| m == "POST" && creates.is_match(p))
        .count();
    assert_eq!(n, 12, "one create per target");
    let peak = peak_per_second(&proxy, "POST", &creates);
    assert!(peak <= 5, "{peak} CreateGatewayTarget in one second");
    let out = run_via(&t, &proxy, &["destroy", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out}");
    let deletes = regex::Regex::new(r"^/gateways/[^/]+/targets/[^/]+/?$").unwrap();
    let peak = peak_per_second(&proxy, "DELETE", &deletes);
    assert!(peak <= 5, "{peak} DeleteGatewayTarget in one second");
}
