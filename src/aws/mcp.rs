//! An MCP client for AgentCore gateways: the official Rust MCP SDK (`rmcp`)
//! over streamable HTTP, with every request SigV4-signed ([`super::sigv4`])
//! as the gateway's `AWS_IAM` inbound auth expects.
//!
//! `rmcp` runs the protocol (initialize, the initialized notification,
//! paging `tools/list` by `nextCursor`, `tools/call`); [`SignedHttp`] is its
//! HTTP client, signing each POST/GET/DELETE with the credentials of the
//! moment (a provider, so temporary credentials refresh). When the gateway
//! refuses a request, the refusal (status, AWS error type, message) is kept
//! so that the error the user sees names the cause: a bad signature, an
//! access denial, or something else.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Result, anyhow};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use futures::StreamExt;
use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ClientJsonRpcMessage,
    Implementation, JsonObject, ServerJsonRpcMessage, Tool,
};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse,
};
use sse_stream::{Sse, SseStream};

use super::sigv4::{AGENTCORE_SERVICE, sign_request};

const SESSION_HEADER: &str = "mcp-session-id";
const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";
/// The most of a refusal's body kept for the message.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// Upper bound on one MCP exchange (a gateway answers in well under this).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the gateway refused a request, as it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// `x-amzn-ErrorType` (without the `:uri` suffix AWS may add), or the
    /// JSON body's `__type`/`code`.
    pub error_type: Option<String>,
    pub message: String,
}

impl Refusal {
    /// What went wrong, in the user's terms.
    pub fn cause(&self) -> Cause {
        let t = self
            .error_type
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let m = self.message.to_ascii_lowercase();
        if t.contains("signature")
            || t.contains("unrecognizedclient")
            || t.contains("invalidclienttokenid")
            || t.contains("expiredtoken")
            || t.contains("missingauthentication")
            || t.contains("incompletesignature")
            || m.contains("signature")
        {
            Cause::BadSignature
        } else if self.status == 403 || t.contains("accessdenied") {
            Cause::AccessDenied
        } else {
            Cause::Other
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The gateway could not authenticate the request: wrong secret, unknown
    /// key, expired token, skewed clock.
    BadSignature,
    /// Authenticated, but the caller may not invoke this gateway.
    AccessDenied,
    Other,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(t) = &self.error_type {
            write!(f, " {t}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// The HTTP client's errors.
#[derive(Debug, thiserror::Error)]
pub enum SignedHttpError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("could not get AWS credentials: {0}")]
    Credentials(String),
    #[error("{0:#}")]
    Sign(anyhow::Error),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("building the request: {0}")]
    Request(#[from] http::Error),
}

type HttpResult<T> = std::result::Result<T, StreamableHttpError<SignedHttpError>>;

/// rmcp's HTTP client: reqwest, each request signed for `bedrock-agentcore`.
#[derive(Clone)]
pub struct SignedHttp {
    http: reqwest::Client,
    credentials: SharedCredentialsProvider,
    region: String,
    /// The last refusal seen, for the error message (rmcp reports transport
    /// errors through its own types, as text).
    refusal: Arc<Mutex<Option<Refusal>>>,
}

impl SignedHttp {
    pub fn new(credentials: SharedCredentialsProvider, region: &str) -> Result<SignedHttp> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("agentform/", env!("CARGO_PKG_VERSION")))
            // A signed request is for its URL only.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(SignedHttp {
            http,
            credentials,
            region: region.to_string(),
            refusal: Arc::default(),
        })
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Vec<u8>,
    ) -> HttpResult<reqwest::Response> {
        let client = |e| StreamableHttpError::Client(e);
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| client(SignedHttpError::Credentials(format!("{e}"))))?;
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        let mut request = builder.body(body).map_err(|e| client(e.into()))?;
        sign_request(
            &mut request,
            &credentials,
            &self.region,
            AGENTCORE_SERVICE,
            SystemTime::now(),
        )
        .map_err(|e| client(SignedHttpError::Sign(e)))?;
        let request = reqwest::Request::try_from(request).map_err(|e| client(e.into()))?;
        self.http
            .execute(request)
            .await
            .map_err(|e| client(e.into()))
    }

    /// Reads a refusal's body and remembers it.
    async fn refused(&self, response: reqwest::Response) -> StreamableHttpError<SignedHttpError> {
        let refusal = read_refusal(response).await;
        *self.refusal.lock().expect("not poisoned") = Some(refusal.clone());
        StreamableHttpError::Client(SignedHttpError::Refused(refusal))
    }

    fn last_refusal(&self) -> Option<Refusal> {
        self.refusal.lock().expect("not poisoned").clone()
    }
}

async fn read_refusal(response: reqwest::Response) -> Refusal {
    let status = response.status().as_u16();
    let header_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.split(':').next().unwrap_or(t).to_string());
    let mut body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    body.truncate(MAX_ERROR_BODY);
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let field = |names: &[&str]| {
        json.as_ref().and_then(|j| {
            names
                .iter()
                .find_map(|n| j.get(*n).and_then(|v| v.as_str()).map(str::to_string))
        })
    };
    let error_type = header_type.or_else(|| {
        field(&["__type", "code"]).map(|t| t.rsplit('#').next().unwrap_or(&t).to_string())
    });
    let message = field(&["message", "Message"]).unwrap_or(text);
    Refusal {
        status,
        error_type,
        message,
    }
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
}

fn session_id(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn sse(response: reqwest::Response) -> BoxStream<'static, std::result::Result<Sse, SseError>> {
    SseStream::from_bytes_stream(response.bytes_stream()).boxed()
}

fn with_custom(
    mut headers: Vec<(HeaderName, HeaderValue)>,
    custom: HashMap<HeaderName, HeaderValue>,
) -> Vec<(HeaderName, HeaderValue)> {
    headers.extend(custom);
    headers
}

impl StreamableHttpClient for SignedHttp {
    type Error = SignedHttpError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let body = serde_json::to_vec(&message)?;
        let mut headers = vec![
            (http::header::CONTENT_TYPE, HeaderValue::from_static(JSON)),
            (
                http::header::ACCEPT,
                HeaderValue::from_static("application/json, text/event-stream"),
            ),
        ];
        if let Some(s) = &session {
            headers.push((
                HeaderName::from_static(SESSION_HEADER),
                HeaderValue::from_str(s)
                    .map_err(|e| StreamableHttpError::Client(http::Error::from(e).into()))?,
            ));
        }
        let response = self
            .send(
                Method::POST,
                &uri,
                with_custom(headers, custom_headers),
                body,
            )
            .await?;
        let status = response.status();
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session.is_some() {
            return Err(StreamableHttpError::SessionExpired);
        }
        if !status.is_success() {
            return Err(self.refused(response).await);
        }
        let sid = session_id(&response);
        let no_answer = matches!(
            message,
            ClientJsonRpcMessage::Notification(_) | ClientJsonRpcMessage::Response(_)
        );
        match content_type(&response).as_deref() {
            Some(EVENT_STREAM) => Ok(StreamableHttpPostResponse::Sse(sse(response), sid)),
            Some(JSON) => {
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| StreamableHttpError::Client(e.into()))?;
                match serde_json::from_slice::<ServerJsonRpcMessage>(&bytes) {
                    Ok(m) => Ok(StreamableHttpPostResponse::Json(m, sid)),
                    Err(_) if no_answer => Ok(StreamableHttpPostResponse::Accepted),
                    Err(e) => Err(e.into()),
                }
            }
            _ if no_answer => Ok(StreamableHttpPostResponse::Accepted),
            other => Err(StreamableHttpError::UnexpectedContentType(
                other.map(str::to_string),
            )),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<()> {
        let headers = vec![(
            HeaderName::from_static(SESSION_HEADER),
            HeaderValue::from_str(&session)
                .map_err(|e| StreamableHttpError::Client(http::Error::from(e).into()))?,
        )];
        let response = self
            .send(
                Method::DELETE,
                &uri,
                with_custom(headers, custom_headers),
                vec![],
            )
            .await?;
        let status = response.status();
        if status.is_success()
            || status == StatusCode::METHOD_NOT_ALLOWED
            || status == StatusCode::NOT_FOUND
        {
            return Ok(());
        }
        Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
            format!("closing the MCP session: HTTP {status}"),
        )))
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<BoxStream<'static, std::result::Result<Sse, SseError>>> {
        let value = |s: &str| {
            HeaderValue::from_str(s)
                .map_err(|e| StreamableHttpError::Client(http::Error::from(e).into()))
        };
        let mut headers = vec![(http::header::ACCEPT, HeaderValue::from_static(EVENT_STREAM))];
        if let Some(s) = &session {
            headers.push((HeaderName::from_static(SESSION_HEADER), value(s)?));
        }
        if let Some(id) = &last_event_id {
            headers.push((HeaderName::from_static("last-event-id"), value(id)?));
        }
        let response = self
            .send(
                Method::GET,
                &uri,
                with_custom(headers, custom_headers),
                vec![],
            )
            .await?;
        let status = response.status();
        if status == StatusCode::METHOD_NOT_ALLOWED || status == StatusCode::NOT_FOUND {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if !status.is_success() {
            return Err(self.refused(response).await);
        }
        if content_type(&response).as_deref() != Some(EVENT_STREAM) {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        Ok(sse(response))
    }
}

/// Why talking to a gateway failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The gateway refused a request (HTTP 4xx/5xx).
    #[error("{0}")]
    Refused(Refusal),
    /// A JSON-RPC error from the gateway (e.g. an unknown tool).
    #[error("the gateway answered with JSON-RPC error {code}: {message}")]
    Rpc { code: i32, message: String },
    /// Anything else: the connection, the protocol, a timeout.
    #[error("{0}")]
    Other(String),
}

impl GatewayError {
    pub fn cause(&self) -> Cause {
        match self {
            GatewayError::Refused(r) => r.cause(),
            _ => Cause::Other,
        }
    }
}

/// An open MCP session with a gateway.
pub struct Session {
    service: RunningService<RoleClient, ClientConfig>,
    http: SignedHttp,
}

impl Session {
    /// Opens a session (initialize + initialized) with the gateway at `url`.
    pub async fn open(
        url: &str,
        credentials: SharedCredentialsProvider,
        region: &str,
    ) -> std::result::Result<Session, GatewayError> {
        let http = SignedHttp::new(credentials, region)
            .map_err(|e| GatewayError::Other(format!("{e:#}")))?;
        let transport = StreamableHttpClientTransport::with_client(
            http.clone(),
            StreamableHttpClientTransportConfig::with_uri(url.to_string()),
        );
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("agentform", env!("CARGO_PKG_VERSION")),
        );
        let started = tokio::time::timeout(EXCHANGE_TIMEOUT, info.serve(transport)).await;
        match started {
            Ok(Ok(service)) => Ok(Session { service, http }),
            Ok(Err(e)) => Err(classify(&http, &e.to_string(), rpc_of_init(&e))),
            Err(_) => Err(GatewayError::Other(format!(
                "the gateway did not answer initialize within {}s",
                EXCHANGE_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Every tool the gateway lists, following `nextCursor`.
    pub async fn tools(&self) -> std::result::Result<Vec<Tool>, GatewayError> {
        let listed = tokio::time::timeout(EXCHANGE_TIMEOUT, self.service.list_all_tools()).await;
        self.settle(listed, "tools/list")
    }

    /// Calls one tool.
    pub async fn call(
        &self,
        name: &str,
        arguments: JsonObject,
    ) -> std::result::Result<CallToolResult, GatewayError> {
        let params = CallToolRequestParams::new(name.to_string()).with_arguments(arguments);
        let called = tokio::time::timeout(EXCHANGE_TIMEOUT, self.service.call_tool(params)).await;
        self.settle(called, "tools/call")
    }

    /// Ends the session (DELETE, when the gateway keeps sessions).
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.service.cancel()).await;
    }

    fn settle<T>(
        &self,
        r: std::result::Result<
            std::result::Result<T, rmcp::ServiceError>,
            tokio::time::error::Elapsed,
        >,
        what: &str,
    ) -> std::result::Result<T, GatewayError> {
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(rmcp::ServiceError::McpError(e))) => Err(GatewayError::Rpc {
                code: e.code.0,
                message: e.message.to_string(),
            }),
            Ok(Err(e)) => Err(classify(&self.http, &e.to_string(), None)),
            Err(_) => Err(GatewayError::Other(format!(
                "the gateway did not answer {what} within {}s",
                EXCHANGE_TIMEOUT.as_secs()
            ))),
        }
    }
}

fn rpc_of_init(e: &rmcp::service::ClientInitializeError) -> Option<GatewayError> {
    match e {
        rmcp::service::ClientInitializeError::JsonRpcError(d) => Some(GatewayError::Rpc {
            code: d.code.0,
            message: d.message.to_string(),
        }),
        _ => None,
    }
}

/// A refusal the client saw explains the failure best; else rmcp's text.
fn classify(http: &SignedHttp, text: &str, rpc: Option<GatewayError>) -> GatewayError {
    if let Some(r) = http.last_refusal() {
        return GatewayError::Refused(r);
    }
    rpc.unwrap_or_else(|| GatewayError::Other(text.to_string()))
}

/// A tool's arguments from `--args`: a JSON object.
pub fn parse_arguments(text: &str) -> Result<JsonObject> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(o)) => Ok(o),
        Ok(other) => Err(anyhow!(
            "--args must be a JSON object such as '{{\"a\": 1}}', not {}",
            match other {
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                _ => "null",
            }
        )),
        Err(e) => Err(anyhow!("--args is not valid JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, t: Option<&str>, m: &str) -> Refusal {
        Refusal {
            status,
            error_type: t.map(str::to_string),
            message: m.into(),
        }
    }

    #[test]
    fn refusals_name_their_cause() {
        let bad = refusal(
            403,
            Some("InvalidSignatureException"),
            "The request signature we calculated does not match the signature you provided.",
        );
        assert_eq!(bad.cause(), Cause::BadSignature);
        let denied = refusal(
            403,
            Some("AccessDeniedException"),
            "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: bedrock-agentcore:InvokeGateway",
        );
        assert_eq!(denied.cause(), Cause::AccessDenied);
        assert_eq!(refusal(500, None, "boom").cause(), Cause::Other);
        let unsigned = refusal(
            403,
            Some("MissingAuthenticationTokenException"),
            "Missing Authentication Token",
        );
        assert_eq!(unsigned.cause(), Cause::BadSignature);
        assert_eq!(
            denied.to_string(),
            "HTTP 403 AccessDeniedException: User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: bedrock-agentcore:InvokeGateway"
        );
    }

    #[test]
    fn arguments_are_a_json_object() {
        assert_eq!(parse_arguments(r#"{"a":1}"#).unwrap()["a"], 1);
        assert!(
            parse_arguments("[1]")
                .unwrap_err()
                .to_string()
                .contains("not an array")
        );
        assert!(
            parse_arguments("{")
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
    }
}
