//! AWS's request quotas, kept on the client side: every request waits for
//! a token of its API's bucket before it is sent, so a large stack is
//! applied at the documented rate instead of being throttled into failure.
//!
//! Two parts: an SDK interceptor ([`Meter`], on every client) names the API
//! of each attempt from the SDK's own operation metadata and counts what the
//! service answered (throttles included); a wrapper around the SDK's HTTP
//! client ([`limited`]) makes each attempt wait for its bucket — the wait has
//! to be there, since interceptors cannot wait. Every request is counted
//! that way, each page of a list and each retry, whatever code sent it.
//!
//! Rates, per account and Region (requests per second), see [`limit`]:
//! - AgentCore (the "Quotas for Amazon Bedrock AgentCore" page): gateways
//!   and targets Create/Update/Delete 5 each, Get/List 10; runtimes and
//!   endpoints Create/Update/Delete 5 each, Get 50, List 5; credential
//!   providers 20 for all; policy engines Create/Update/Delete 1 (not
//!   adjustable), Get/List 5, and 5 for every policy call. Tagging calls
//!   are not documented: 10 is assumed.
//! - Lambda (the "Lambda quotas" page): GetFunction 100, GetPolicy 15, and
//!   every other control-plane API 15 *together*.
//! - IAM and ECR's repository APIs publish no rates (IAM throttles with a
//!   token bucket per API): 10 per mutating API and 20 per read are assumed,
//!   low enough to stay clear of what accounts report.
//! - STS and SSM (one call each per run) are not limited.
//!
//! `AGENTFORM_RATE_SCALE` (or `--rate-scale`) multiplies every rate, for an
//! account with raised quotas. A limit of N per second means at most N
//! requests in any window of a second (a sliding window over the times of
//! the last N): a small stack's few requests go at once, a large one's at
//! the rate, and AWS's token buckets (N tokens, N more each second) never
//! run dry for it.
//!
//! The other AgentCore limit, at most 5 concurrent target operations per
//! gateway, spans a whole operation (the request and the wait until the
//! target is ready), so it is held in the target code: [`Quotas::target_slot`].

use std::borrow::Cow;
use std::collections::VecDeque;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Concurrent Create/Update/Delete operations on the targets of one gateway.
pub const TARGET_OPERATIONS_PER_GATEWAY: usize = 5;

/// The service name AgentCore's SDK gives its operations.
const AGENTCORE: &str = "Bedrock AgentCore Control";

fn is_read(op: &str) -> bool {
    ["Get", "List", "Describe", "BatchGet"]
        .iter()
        .any(|p| op.starts_with(p))
}

/// Every API agentform calls whose rate can be set (`--rate`,
/// `AGENTFORM_RATES`, the spec's `rates:`), named as in IAM actions.
pub const APIS: &[&str] = &[
    "bedrock-agentcore:CreateApiKeyCredentialProvider",
    "bedrock-agentcore:GetApiKeyCredentialProvider",
    "bedrock-agentcore:UpdateApiKeyCredentialProvider",
    "bedrock-agentcore:DeleteApiKeyCredentialProvider",
    "bedrock-agentcore:ListApiKeyCredentialProviders",
    "bedrock-agentcore:CreateOauth2CredentialProvider",
    "bedrock-agentcore:GetOauth2CredentialProvider",
    "bedrock-agentcore:UpdateOauth2CredentialProvider",
    "bedrock-agentcore:DeleteOauth2CredentialProvider",
    "bedrock-agentcore:ListOauth2CredentialProviders",
    "bedrock-agentcore:CreateGateway",
    "bedrock-agentcore:GetGateway",
    "bedrock-agentcore:ListGateways",
    "bedrock-agentcore:UpdateGateway",
    "bedrock-agentcore:DeleteGateway",
    "bedrock-agentcore:CreateGatewayTarget",
    "bedrock-agentcore:GetGatewayTarget",
    "bedrock-agentcore:ListGatewayTargets",
    "bedrock-agentcore:UpdateGatewayTarget",
    "bedrock-agentcore:DeleteGatewayTarget",
    "bedrock-agentcore:CreateAgentRuntime",
    "bedrock-agentcore:GetAgentRuntime",
    "bedrock-agentcore:ListAgentRuntimes",
    "bedrock-agentcore:UpdateAgentRuntime",
    "bedrock-agentcore:DeleteAgentRuntime",
    "bedrock-agentcore:CreateAgentRuntimeEndpoint",
    "bedrock-agentcore:GetAgentRuntimeEndpoint",
    "bedrock-agentcore:ListAgentRuntimeEndpoints",
    "bedrock-agentcore:UpdateAgentRuntimeEndpoint",
    "bedrock-agentcore:DeleteAgentRuntimeEndpoint",
    "bedrock-agentcore:CreatePolicyEngine",
    "bedrock-agentcore:GetPolicyEngine",
    "bedrock-agentcore:ListPolicyEngines",
    "bedrock-agentcore:UpdatePolicyEngine",
    "bedrock-agentcore:DeletePolicyEngine",
    "bedrock-agentcore:CreatePolicy",
    "bedrock-agentcore:GetPolicy",
    "bedrock-agentcore:ListPolicies",
    "bedrock-agentcore:UpdatePolicy",
    "bedrock-agentcore:DeletePolicy",
    "bedrock-agentcore:TagResource",
    "bedrock-agentcore:UntagResource",
    "bedrock-agentcore:ListTagsForResource",
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:GetPolicy",
    "lambda:RemovePermission",
    "lambda:ListFunctions",
    "lambda:TagResource",
    "lambda:UntagResource",
    "iam:CreateRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:GetAccountAuthorizationDetails",
    "ecr:CreateRepository",
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:ListImages",
    "ecr:DeleteRepository",
    "ecr:GetRepositoryPolicy",
    "ecr:DeleteRepositoryPolicy",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:ListTagsForResource",
    "ecr:TagResource",
    "ecr:UntagResource",
];

/// The SDK's service name of Cognito user pools.
const COGNITO: &str = "Cognito Identity Provider";

/// An API's name as in IAM actions (`bedrock-agentcore:CreateGateway`),
/// from the SDK's service and operation names.
pub fn iam_name(service: &str, op: &str) -> String {
    let prefix = match service {
        AGENTCORE => "bedrock-agentcore",
        "Lambda" => "lambda",
        "IAM" => "iam",
        "ECR" => "ecr",
        "STS" => "sts",
        "SSM" => "ssm",
        "Secrets Manager" => "secretsmanager",
        COGNITO => "cognito-idp",
        other => other,
    };
    format!("{prefix}:{op}")
}

/// The API a mistyped name most likely means: the one of that operation
/// when the service prefix is missing (`CreateGateway`), else the closest.
pub fn suggest(api: &str) -> Option<&'static str> {
    if !api.contains(':') {
        let suffix = format!(":{api}");
        if let Some(a) = APIS.iter().find(|a| a.ends_with(&suffix)) {
            return Some(a);
        }
    }
    crate::diag::did_you_mean(api, APIS.iter().copied())
}

/// Parses `API=N` settings (`--rate`, and `AGENTFORM_RATES` split at
/// commas): a known API and a positive whole number of requests a second.
pub fn parse_rate(s: &str) -> Result<(String, u32), String> {
    let (api, n) = s.split_once('=').ok_or_else(|| {
        format!("`{s}` is not API=N (e.g. bedrock-agentcore:CreateGatewayTarget=10)")
    })?;
    let api = api.trim();
    if !APIS.contains(&api) {
        let hint = suggest(api)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        return Err(format!(
            "agentform does not call `{api}`{hint} (rates are set per API, named as in IAM actions)"
        ));
    }
    match n.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok((api.to_string(), n)),
        _ => Err(format!(
            "the rate of `{api}` must be a whole number of requests a second above 0, not `{n}`"
        )),
    }
}

/// The bucket an API's requests share and its documented (or assumed) rate;
/// `None`: not limited.
pub fn limit(service: &str, op: &str) -> Option<(Cow<'static, str>, u32)> {
    let own = |rate| Some((Cow::Owned(format!("{service}:{op}")), rate));
    match service {
        AGENTCORE => own(match op {
            "GetAgentRuntime" | "GetAgentRuntimeEndpoint" => 50,
            "ListAgentRuntimes" | "ListAgentRuntimeEndpoints" | "ListAgentRuntimeVersions" => 5,
            "TagResource" | "UntagResource" | "ListTagsForResource" => 10,
            // AgentCore Identity: 20 per second for all its CRUD.
            o if o.contains("CredentialProvider") => 20,
            // AgentCore Policy: engine writes 1 (not adjustable), engine
            // reads and every policy call 5.
            "CreatePolicyEngine" | "UpdatePolicyEngine" | "DeletePolicyEngine" => 1,
            "GetPolicyEngine" | "ListPolicyEngines" => 5,
            o if o.ends_with("Policy") || o == "ListPolicies" => 5,
            o if is_read(o) => 10,
            _ => 5,
        }),
        "Lambda" => match op {
            "GetFunction" => own(100),
            "GetPolicy" => own(15),
            "Invoke" | "InvokeAsync" | "InvokeWithResponseStream" => None,
            _ => Some((Cow::Borrowed("Lambda:control-plane"), 15)),
        },
        "IAM" | "ECR" => own(if is_read(op) { 20 } else { 10 }),
        // Cognito's user pool management categories are 15 to 25 requests
        // a second by default; pool creation and deletion fewer (assumed 5).
        COGNITO => own(match op {
            "CreateUserPool" | "DeleteUserPool" => 5,
            _ => 15,
        }),
        _ => None,
    }
}

/// What the service answered, per API, for the run's summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Attempts sent (each retry counts).
    pub requests: u64,
    /// Attempts the service refused as throttled (and the SDK retried).
    pub throttled: u64,
}

/// The window a rate is counted over, with a little room for the time a
/// request takes to reach AWS varying.
const WINDOW: Duration = Duration::from_millis(1010);

/// One API's limit: at most `rate` requests in any [`WINDOW`], served first
/// come, first served (the waiter at the head of tokio's fair mutex sleeps
/// until the oldest of the last `rate` sends is a window old).
#[derive(Debug)]
struct Bucket {
    rate: usize,
    sent: tokio::sync::Mutex<VecDeque<tokio::time::Instant>>,
}

/// One bucket per API, the per-gateway target slots, and the tallies.
#[derive(Debug, Default)]
pub struct Quotas {
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
    targets: Mutex<HashMap<String, Arc<Semaphore>>>,
    tallies: Mutex<BTreeMap<String, Tally>>,
    /// Scales every rate (1.0 is AWS's).
    scale: f64,
    /// Rates set per API (IAM-style name -> requests a second), not scaled.
    rates: BTreeMap<String, u32>,
}

impl Quotas {
    pub fn new(scale: f64) -> Quotas {
        Quotas {
            scale,
            ..Quotas::default()
        }
    }

    /// With the rates set per API (`--rate`, `AGENTFORM_RATES`, `rates:`):
    /// each such API gets a bucket of its own at exactly that rate.
    pub fn with_rates(mut self, rates: BTreeMap<String, u32>) -> Quotas {
        self.rates = rates;
        self
    }

    fn bucket(&self, key: &str, rate: u32, scaled: bool) -> Arc<Bucket> {
        let mut b = self.buckets.lock().expect("quota lock");
        if let Some(l) = b.get(key) {
            return l.clone();
        }
        let scale = if scaled { self.scale } else { 1.0 };
        let per_second = ((f64::from(rate) * scale).round() as usize).max(1);
        let l = Arc::new(Bucket {
            rate: per_second,
            sent: tokio::sync::Mutex::new(VecDeque::with_capacity(per_second)),
        });
        b.insert(key.to_string(), l.clone());
        l
    }

    /// Waits until a request of `service`'s `op` may be sent.
    pub async fn acquire(&self, service: &str, op: &str) {
        let name = iam_name(service, op);
        let bucket = match self.rates.get(&name) {
            Some(&rate) => self.bucket(&format!("set:{name}"), rate, false),
            None => {
                let Some((key, rate)) = limit(service, op) else {
                    return;
                };
                self.bucket(&key, rate, true)
            }
        };
        let mut sent = bucket.sent.lock().await;
        if sent.len() >= bucket.rate
            && let Some(oldest) = sent.pop_front()
        {
            let ready = oldest + WINDOW;
            if ready > tokio::time::Instant::now() {
                tracing::trace!(service, op, "waiting for the client-side rate limit");
                tokio::time::sleep_until(ready).await;
            }
        }
        sent.push_back(tokio::time::Instant::now());
    }

    /// One of the gateway's concurrent target-operation slots, held for the
    /// whole operation (request and wait).
    pub async fn target_slot(&self, gateway_id: &str) -> OwnedSemaphorePermit {
        let sem = self
            .targets
            .lock()
            .expect("quota lock")
            .entry(gateway_id.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(TARGET_OPERATIONS_PER_GATEWAY)))
            .clone();
        sem.acquire_owned().await.expect("never closed")
    }

    fn count(&self, api: &str, throttled: bool) {
        let mut t = self.tallies.lock().expect("quota lock");
        let e = t.entry(api.to_string()).or_default();
        e.requests += 1;
        e.throttled += u64::from(throttled);
    }

    /// Requests and throttles so far, per API (`Service:Operation`).
    pub fn tallies(&self) -> BTreeMap<String, Tally> {
        self.tallies.lock().expect("quota lock").clone()
    }
}

/// The API of one attempt, put on the request for the HTTP layer.
#[derive(Debug, Clone)]
struct Api {
    service: Cow<'static, str>,
    op: Cow<'static, str>,
}

/// Whether a response is a throttle: HTTP 429, or an error whose code says
/// so (`ThrottlingException`, IAM's `Throttling`, `TooManyRequestsException`,
/// `RequestLimitExceeded`, S3's `SlowDown`) in the error-type header or the
/// body.
pub fn is_throttle(status: u16, error_type: Option<&str>, body: Option<&[u8]>) -> bool {
    const CODES: [&str; 5] = [
        "Throttling",
        "TooManyRequests",
        "RequestLimitExceeded",
        "SlowDown",
        "RateExceeded",
    ];
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let has = |text: &str| CODES.iter().any(|c| text.contains(c));
    error_type.is_some_and(has)
        || body
            .and_then(|b| std::str::from_utf8(&b[..b.len().min(2048)]).ok())
            .is_some_and(has)
}

/// The interceptor on every client: names each attempt's API for
/// [`limited`], and counts the answers.
#[derive(Debug, Clone)]
pub struct Meter {
    quotas: Arc<Quotas>,
}

impl Meter {
    pub fn new(quotas: Arc<Quotas>) -> Meter {
        Meter { quotas }
    }
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "agentform::quota::Meter"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            context.request_mut().add_extension(Api {
                service: Cow::Owned(m.service().to_string()),
                op: Cow::Owned(m.name().to_string()),
            });
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(m) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let api = format!("{}:{}", m.service(), m.name());
        let throttled = context.response().is_some_and(|r| {
            is_throttle(
                r.status().as_u16(),
                r.headers().get("x-amzn-errortype"),
                r.body().bytes(),
            )
        });
        if throttled {
            tracing::debug!(%api, "throttled by the service; the SDK retries with backoff");
        }
        if let Some(r) = context.response() {
            tracing::trace!(target: "agentform::requests", %api, status = r.status().as_u16(), "answered");
            self.quotas.count(&api, throttled);
        }
        Ok(())
    }
}

/// The SDK's HTTP client with every request waiting for its API's token.
#[derive(Debug)]
struct Limited {
    inner: SharedHttpClient,
    quotas: Arc<Quotas>,
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    quotas: Arc<Quotas>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let api = request.extension::<Api>().cloned();
        let inner = self.inner.clone();
        let quotas = self.quotas.clone();
        HttpConnectorFuture::new(async move {
            if let Some(api) = api {
                quotas.acquire(&api.service, &api.op).await;
            }
            inner.call(request).await
        })
    }
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            quotas: self.quotas.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
        cfg: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, proxies
/// from the environment), built here because the SDK only creates it
/// lazily inside each client, where no wrapper can reach it.
pub fn default_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut b = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        b.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    })
}

/// `inner` with the quotas in front of it.
pub fn limited(inner: SharedHttpClient, quotas: Arc<Quotas>) -> SharedHttpClient {
    SharedHttpClient::new(Limited { inner, quotas })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_have_their_documented_rates() {
        let rate = |s, o| limit(s, o).map(|(_, r)| r);
        assert_eq!(rate(AGENTCORE, "CreateGatewayTarget"), Some(5));
        assert_eq!(rate(AGENTCORE, "GetAgentRuntime"), Some(50));
        assert_eq!(rate(AGENTCORE, "ListAgentRuntimes"), Some(5));
        assert_eq!(rate(AGENTCORE, "ListGatewayTargets"), Some(10));
        assert_eq!(rate(AGENTCORE, "CreatePolicyEngine"), Some(1));
        assert_eq!(rate(AGENTCORE, "DeletePolicyEngine"), Some(1));
        assert_eq!(rate(AGENTCORE, "GetPolicyEngine"), Some(5));
        assert_eq!(rate(AGENTCORE, "CreatePolicy"), Some(5));
        assert_eq!(rate(AGENTCORE, "ListPolicies"), Some(5));
        assert_eq!(rate("Lambda", "GetFunction"), Some(100));
        assert_eq!(rate("IAM", "CreateRole"), Some(10));
        assert_eq!(rate("IAM", "GetRole"), Some(20));
        assert_eq!(rate("STS", "GetCallerIdentity"), None);
        assert_eq!(
            rate("Lambda", "Invoke"),
            None,
            "the data plane is not limited"
        );
        // Lambda's control plane is one bucket for all its APIs.
        assert_eq!(
            limit("Lambda", "CreateFunction").map(|(k, _)| k),
            limit("Lambda", "UpdateFunctionCode").map(|(k, _)| k)
        );
        assert_ne!(
            limit(AGENTCORE, "CreateGateway").map(|(k, _)| k),
            limit(AGENTCORE, "CreateGatewayTarget").map(|(k, _)| k)
        );
    }

    #[test]
    fn throttles_are_recognised_in_every_protocol() {
        assert!(is_throttle(429, None, None));
        assert!(is_throttle(
            400,
            None,
            Some(b"<ErrorResponse><Error><Code>Throttling</Code>")
        ));
        assert!(is_throttle(
            400,
            Some("ThrottlingException:http://internal"),
            None
        ));
        assert!(is_throttle(
            400,
            None,
            Some(br#"{"__type":"ThrottlingException"}"#)
        ));
        assert!(!is_throttle(400, Some("ValidationException"), Some(b"{}")));
        assert!(!is_throttle(
            200,
            None,
            Some(b"Throttling in a tool description")
        ));
        assert!(!is_throttle(404, None, None));
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_the_rate_in_any_window() {
        let q = Quotas::new(1.0); // CreateGateway: 5 per second
        let start = tokio::time::Instant::now();
        let mut at = Vec::new();
        for _ in 0..11 {
            q.acquire(AGENTCORE, "CreateGateway").await;
            at.push(start.elapsed());
        }
        // Five at once, five a window later, the eleventh a window after.
        assert_eq!(at[..5], [Duration::ZERO; 5]);
        assert_eq!(at[5..10], [WINDOW; 5]);
        assert_eq!(at[10], WINDOW * 2);
        // Other APIs have buckets of their own.
        q.acquire(AGENTCORE, "CreateGatewayTarget").await;
        assert_eq!(start.elapsed(), WINDOW * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_set_per_api_replaces_the_default() {
        let set = BTreeMap::from([("bedrock-agentcore:CreateGatewayTarget".to_string(), 10)]);
        let q = Quotas::new(4.0).with_rates(set);
        let start = tokio::time::Instant::now();
        for _ in 0..11 {
            q.acquire(AGENTCORE, "CreateGatewayTarget").await;
        }
        // Ten a window (not 5 x 4 = 20: a set rate is not scaled).
        assert_eq!(start.elapsed(), WINDOW);
        assert!(parse_rate("bedrock-agentcore:CreateGatewayTarget=10").is_ok());
        let typo = parse_rate("bedrock-agentcore:CreateGatewayTargets=10").unwrap_err();
        assert!(
            typo.contains("did you mean `bedrock-agentcore:CreateGatewayTarget`"),
            "{typo}"
        );
        assert!(parse_rate("iam:CreateRole=0").is_err());
        assert!(parse_rate("iam:CreateRole").is_err());
    }

    #[test]
    fn every_api_agentform_limits_has_a_settable_name() {
        for api in APIS {
            let (service, op) = api.split_once(':').unwrap();
            let sdk = match service {
                "bedrock-agentcore" => AGENTCORE,
                "lambda" => "Lambda",
                "iam" => "IAM",
                "ecr" => "ECR",
                other => panic!("{other}"),
            };
            assert_eq!(iam_name(sdk, op), *api);
            assert!(limit(sdk, op).is_some(), "{api} is limited");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_the_order_they_came() {
        let q = Arc::new(Quotas::new(1.0)); // CreateGatewayTarget: 5 per second
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (q, order) = (q.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                q.acquire(AGENTCORE, "CreateGatewayTarget").await;
                order.lock().unwrap().push(i);
            }));
            // Let each one queue before the next comes.
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order, (0..20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn at_most_five_target_operations_per_gateway() {
        let q = Quotas::new(1.0);
        let mut held = Vec::new();
        for _ in 0..TARGET_OPERATIONS_PER_GATEWAY {
            held.push(q.target_slot("gw").await);
        }
        let sixth = tokio::time::timeout(std::time::Duration::from_millis(50), q.target_slot("gw"));
        assert!(sixth.await.is_err(), "a sixth slot waits");
        let other =
            tokio::time::timeout(std::time::Duration::from_millis(50), q.target_slot("gw2"));
        assert!(other.await.is_ok(), "other gateways are not held up");
        held.pop();
        let sixth = tokio::time::timeout(std::time::Duration::from_millis(50), q.target_slot("gw"));
        assert!(sixth.await.is_ok());
    }
}
