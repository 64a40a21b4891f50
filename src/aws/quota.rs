//! AWS's request quotas, kept on the client side: every AgentCore control
//! plane request waits for a token of its API's bucket before it is sent,
//! so a large stack is applied at the documented rate instead of being
//! throttled into failure. The buckets sit in the HTTP layer under the SDK
//! (a wrapper around its HTTP client), so every request — each page of a
//! list, each retry — is counted, whatever code sent it.
//!
//! Rates (Amazon Bedrock AgentCore quotas, per account and Region):
//! gateways and targets: Create/Update/Delete 5 TPS each, Get/List 10;
//! runtimes and endpoints: Create/Update/Delete 5 TPS each, Get 50, List 5.
//! Tagging calls are not documented: 10 TPS is assumed. Other services
//! (IAM, Lambda, ECR, STS, SSM) are left to the SDK's retries.
//!
//! The other AgentCore limit, at most 5 concurrent target operations per
//! gateway, spans a whole operation (the request and the wait until the
//! target is ready), so it is held in the target code: [`Quotas::target_slot`].

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Concurrent Create/Update/Delete operations on the targets of one gateway.
pub const TARGET_OPERATIONS_PER_GATEWAY: usize = 5;

/// The API an AgentCore control-plane request calls, from its method and
/// path (REST-JSON); `None` for anything else.
pub fn agentcore_api(method: &str, uri: &str) -> Option<&'static str> {
    // The request's URI is absolute: keep the path.
    let path = match uri.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => uri,
    };
    let segs: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    Some(match (method, segs.as_slice()) {
        ("POST", ["gateways"]) => "CreateGateway",
        ("GET", ["gateways"]) => "ListGateways",
        ("GET", ["gateways", _]) => "GetGateway",
        ("PUT", ["gateways", _]) => "UpdateGateway",
        ("DELETE", ["gateways", _]) => "DeleteGateway",
        ("POST", ["gateways", _, "targets"]) => "CreateGatewayTarget",
        ("GET", ["gateways", _, "targets"]) => "ListGatewayTargets",
        ("GET", ["gateways", _, "targets", _]) => "GetGatewayTarget",
        ("PUT", ["gateways", _, "targets", _]) => "UpdateGatewayTarget",
        ("DELETE", ["gateways", _, "targets", _]) => "DeleteGatewayTarget",
        ("POST", ["runtimes"]) => "CreateAgentRuntime",
        ("GET", ["runtimes"]) => "ListAgentRuntimes",
        ("GET", ["runtimes", _]) => "GetAgentRuntime",
        ("PUT", ["runtimes", _]) => "UpdateAgentRuntime",
        ("DELETE", ["runtimes", _]) => "DeleteAgentRuntime",
        ("POST", ["runtimes", _, "runtime-endpoints"]) => "CreateAgentRuntimeEndpoint",
        ("GET", ["runtimes", _, "runtime-endpoints"]) => "ListAgentRuntimeEndpoints",
        ("GET", ["runtimes", _, "runtime-endpoints", _]) => "GetAgentRuntimeEndpoint",
        ("PUT", ["runtimes", _, "runtime-endpoints", _]) => "UpdateAgentRuntimeEndpoint",
        ("DELETE", ["runtimes", _, "runtime-endpoints", _]) => "DeleteAgentRuntimeEndpoint",
        ("GET", ["tags", ..]) => "ListTagsForResource",
        ("POST", ["tags", ..]) => "TagResource",
        ("DELETE", ["tags", ..]) => "UntagResource",
        _ => return None,
    })
}

/// The documented rate of an API, requests per second.
pub fn rate(api: &str) -> u32 {
    match api {
        "GetAgentRuntime" | "GetAgentRuntimeEndpoint" => 50,
        "ListAgentRuntimes" | "ListAgentRuntimeEndpoints" => 5,
        a if a.starts_with("Get") || a.starts_with("List") => 10,
        "TagResource" | "UntagResource" => 10,
        _ => 5,
    }
}

/// One bucket per API, and the per-gateway target slots.
#[derive(Debug, Default)]
pub struct Quotas {
    buckets: Mutex<HashMap<&'static str, Arc<DefaultDirectRateLimiter>>>,
    targets: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Scales every rate (tests run faster than AWS allows; 1.0 is AWS).
    scale: f64,
}

impl Quotas {
    pub fn new(scale: f64) -> Quotas {
        Quotas {
            scale,
            ..Quotas::default()
        }
    }

    fn bucket(&self, api: &'static str) -> Arc<DefaultDirectRateLimiter> {
        let mut b = self.buckets.lock().expect("quota lock");
        b.entry(api)
            .or_insert_with(|| {
                let per_second = ((f64::from(rate(api)) * self.scale).round() as u32).max(1);
                let n = NonZeroU32::new(per_second).expect("at least one");
                // A burst of one: requests are spread evenly over the second.
                Arc::new(RateLimiter::direct(
                    Quota::per_second(n).allow_burst(NonZeroU32::MIN),
                ))
            })
            .clone()
    }

    /// Waits until `api` may be called.
    pub async fn acquire(&self, api: &'static str) {
        let bucket = self.bucket(api);
        if bucket.check().is_err() {
            tracing::trace!(api, "waiting for the client-side rate limit");
            bucket.until_ready().await;
        }
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
}

/// The SDK's HTTP client with every AgentCore request waiting for its token.
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
        let api = agentcore_api(request.method(), request.uri());
        let inner = self.inner.clone();
        let quotas = self.quotas.clone();
        HttpConnectorFuture::new(async move {
            if let Some(api) = api {
                quotas.acquire(api).await;
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
    fn requests_map_to_their_api_and_rate() {
        assert_eq!(agentcore_api("POST", "/gateways/"), Some("CreateGateway"));
        assert_eq!(
            agentcore_api("PUT", "/gateways/gw-1/targets/T1/"),
            Some("UpdateGatewayTarget")
        );
        assert_eq!(
            agentcore_api("GET", "/runtimes/rt-1/runtime-endpoints/?maxResults=10"),
            Some("ListAgentRuntimeEndpoints")
        );
        assert_eq!(
            agentcore_api("POST", "/"),
            None,
            "IAM and ECR are not counted"
        );
        assert_eq!(agentcore_api("GET", "/2015-03-31/functions/"), None);
        assert_eq!(rate("CreateGatewayTarget"), 5);
        assert_eq!(rate("GetAgentRuntime"), 50);
        assert_eq!(rate("ListAgentRuntimes"), 5);
        assert_eq!(rate("ListGatewayTargets"), 10);
    }

    #[tokio::test]
    async fn a_bucket_spreads_requests_at_its_rate() {
        let q = Quotas::new(10.0); // CreateGateway: 50 per second
        let start = std::time::Instant::now();
        for _ in 0..11 {
            q.acquire("CreateGateway").await;
        }
        // The first is free; ten more at 50/s take at least 0.2 s.
        assert!(
            start.elapsed() >= std::time::Duration::from_millis(190),
            "{:?}",
            start.elapsed()
        );
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
