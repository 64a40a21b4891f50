//! A fault-injecting HTTP/1.1 proxy for the integration tests.
//!
//! moto cannot be told to fail, so a test puts this proxy between the
//! `agentform` binary (via `AWS_ENDPOINT_URL`) and the moto server. Every
//! request is checked against the proxy's [`Rule`]s in order; the first rule
//! that matches and still has budget left decides what happens instead of
//! (or on top of) plain forwarding: an AWS error in the request's protocol,
//! a dropped connection, a lost response, or extra latency. Everything else
//! passes through unchanged.
//!
//! The proxy listens on 127.0.0.1 only, runs on its own thread and tokio
//! runtime (so a test may block its own runtime on a CLI run), and stops
//! when the [`FaultProxy`] is dropped. It keeps a journal of every request
//! and what it did with it, for assertions and failure messages.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use regex::Regex;

// ---------------------------------------------------------------------------
// Rules

/// Which requests a rule applies to.
#[derive(Debug, Clone)]
pub enum Match {
    /// REST protocols (AgentCore control plane, Lambda): the HTTP method and
    /// a regex on the path (without the query string).
    Rest { method: String, path: Regex },
    /// AWS query protocol (IAM, STS): the `Action` parameter, from the
    /// form-encoded body or the query string.
    Action(String),
    /// AWS JSON protocols (ECR): the operation named by `X-Amz-Target`
    /// (`Service_Version.Operation`, compared after the last dot).
    Target(String),
}

impl Match {
    /// `method` and a regex the whole path must match, e.g.
    /// `Match::rest("GET", "/gateways/[^/]+/?")` (anchored for you).
    pub fn rest(method: &str, path: &str) -> Match {
        Match::Rest {
            method: method.to_ascii_uppercase(),
            path: Regex::new(&format!("^(?:{path})$")).expect("valid path regex"),
        }
    }

    /// An IAM/STS query-protocol action such as `CreateRole`.
    pub fn action(name: &str) -> Match {
        Match::Action(name.to_string())
    }

    /// An `X-Amz-Target` operation such as `DescribeRepositories`.
    pub fn target(operation: &str) -> Match {
        Match::Target(operation.to_string())
    }

    fn matches(&self, req: &Seen) -> bool {
        match self {
            Match::Rest { method, path } => req.method == *method && path.is_match(&req.path),
            Match::Action(a) => req.action.as_deref() == Some(a.as_str()),
            Match::Target(t) => req
                .target
                .as_deref()
                .is_some_and(|x| x.rsplit('.').next() == Some(t.as_str())),
        }
    }
}

/// What a rule does to a request it applies to.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with an AWS error instead of forwarding. The body is in the
    /// request's protocol: JSON plus `x-amzn-errortype` for REST-JSON,
    /// `__type` JSON for AWS-JSON, `<ErrorResponse>` XML for query.
    Error {
        status: u16,
        code: String,
        message: String,
    },
    /// Close the connection without answering; moto never sees the request.
    Drop,
    /// Forward to moto, then close the connection without passing the
    /// answer on: the call took effect but the caller cannot know it.
    LoseResponse,
    /// Wait this long, then forward.
    Delay(Duration),
}

impl Fault {
    pub fn error(status: u16, code: &str, message: &str) -> Fault {
        Fault::Error {
            status,
            code: code.to_string(),
            message: message.to_string(),
        }
    }

    /// 429 ThrottlingException "Rate exceeded" (REST-JSON / AWS-JSON services).
    pub fn throttling() -> Fault {
        Fault::error(429, "ThrottlingException", "Rate exceeded")
    }

    /// IAM's throttling: 400 `Throttling` "Rate exceeded" (query protocol).
    pub fn iam_throttling() -> Fault {
        Fault::error(400, "Throttling", "Rate exceeded")
    }

    /// 503 ServiceUnavailableException.
    pub fn unavailable() -> Fault {
        Fault::error(
            503,
            "ServiceUnavailableException",
            "Service is temporarily unavailable. Please try again later.",
        )
    }

    /// Lambda's answer to CreateFunction while a new execution role has not
    /// propagated yet.
    pub fn lambda_role_not_assumable() -> Fault {
        Fault::error(
            400,
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        )
    }

    /// AgentCore's answer to a create while the new role `role_arn` has not
    /// propagated yet.
    pub fn agentcore_role_validation(role_arn: &str) -> Fault {
        Fault::error(
            400,
            "ValidationException",
            &format!(
                "Role validation failed for '{role_arn}'. Please verify that the role exists and that bedrock-agentcore.amazonaws.com can assume it."
            ),
        )
    }
}

/// One fault-injection rule: a label (for counting and messages), which
/// requests, what to do, and how often.
#[derive(Debug, Clone)]
pub struct Rule {
    label: String,
    matcher: Match,
    fault: Fault,
    /// `None`: every matching request.
    budget: Option<u32>,
    fired: u32,
}

impl Rule {
    /// A rule that applies to every matching request; limit it with
    /// [`Rule::times`].
    pub fn new(label: &str, matcher: Match, fault: Fault) -> Rule {
        Rule {
            label: label.to_string(),
            matcher,
            fault,
            budget: None,
            fired: 0,
        }
    }

    /// Applies to the first `n` matching requests only; later ones pass
    /// through (or reach the next rule that matches).
    pub fn times(mut self, n: u32) -> Rule {
        self.budget = Some(n);
        self
    }
}

// ---------------------------------------------------------------------------
// The proxy

struct State {
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    journal: Mutex<Vec<String>>,
    /// When each request arrived, and what it was (method and path).
    arrivals: Mutex<Vec<(std::time::Instant, String, String)>>,
}

impl State {
    /// The fault of the first matching rule with budget left (spending one
    /// unit of it), if any.
    fn pick(&self, seen: &Seen) -> Option<(String, Fault)> {
        let mut rules = self.rules.lock().unwrap();
        let rule = rules
            .iter_mut()
            .find(|r| r.budget.is_none_or(|b| r.fired < b) && r.matcher.matches(seen))?;
        rule.fired += 1;
        Some((rule.label.clone(), rule.fault.clone()))
    }

    fn log(&self, line: String) {
        self.journal.lock().unwrap().push(line);
    }
}

/// A running proxy in front of `upstream`; stops when dropped.
pub struct FaultProxy {
    url: String,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream`
    /// (`http://127.0.0.1:PORT`, the moto endpoint).
    pub fn start(upstream: &str, rules: Vec<Rule>) -> FaultProxy {
        let upstream: SocketAddr = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("upstream {upstream:?} is not http://IP:PORT: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fault proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            upstream,
            rules: Mutex::new(rules),
            journal: Mutex::new(Vec::new()),
            arrivals: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("fault proxy runtime");
                rt.block_on(accept_loop(listener, st, stopped));
                // Connections still open (a client's idle keep-alive) end here.
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("spawning the fault proxy thread");
        FaultProxy {
            url,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How often the rule labelled `label` has fired.
    #[track_caller]
    pub fn fired(&self, label: &str) -> u32 {
        let rules = self.state.rules.lock().unwrap();
        rules
            .iter()
            .find(|r| r.label == label)
            .unwrap_or_else(|| panic!("no fault rule labelled {label:?}"))
            .fired
    }

    /// Every request seen so far and what became of it.
    pub fn journal(&self) -> Vec<String> {
        self.state.journal.lock().unwrap().clone()
    }

    /// Every request's arrival time, method and path, in arrival order.
    pub fn arrivals(&self) -> Vec<(std::time::Instant, String, String)> {
        self.state.arrivals.lock().unwrap().clone()
    }

    /// The journal as one block of text, for assertion messages.
    pub fn journal_text(&self) -> String {
        self.journal().join("\n")
    }

    /// Panics unless every rule with a budget has used all of it (a fault
    /// that never fired proves nothing).
    #[track_caller]
    pub fn assert_spent(&self) {
        let unspent: Vec<String> = self
            .state
            .rules
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.budget.is_some_and(|b| r.fired < b))
            .map(|r| format!("{:?} fired {} of {}", r.label, r.fired, r.budget.unwrap()))
            .collect();
        assert!(
            unspent.is_empty(),
            "fault rules not used up: {unspent:?}\n--- proxy journal ---\n{}",
            self.journal_text()
        );
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                // An accept error (e.g. out of descriptors) is transient: the
                // client sees a connection error and the SDK retries.
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(req, state.clone())
                    });
                    // An error here is a fault we injected, or a client that
                    // went away: either way the connection is over.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

/// Returned by the service to make hyper close the connection without
/// writing a response.
#[derive(Debug)]
struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Hangup {}

/// What the proxy knows about one request.
struct Seen {
    method: String,
    path: String,
    /// Query-protocol `Action`.
    action: Option<String>,
    /// `X-Amz-Target`.
    target: Option<String>,
    /// The signing name from the Authorization header (`iam`, `lambda`...).
    service: String,
}

impl Seen {
    fn new(parts: &Parts, body: &Bytes) -> Seen {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let form = header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        let action = form_param(parts.uri.query().unwrap_or(""), "Action").or_else(|| {
            form.then(|| form_param(&String::from_utf8_lossy(body), "Action"))
                .flatten()
        });
        // `Credential=AKID/DATE/REGION/SERVICE/aws4_request`
        let service = header("authorization")
            .and_then(|a| {
                let cred = a.split("Credential=").nth(1)?;
                cred.split('/').nth(3).map(str::to_string)
            })
            .unwrap_or_else(|| "?".into());
        Seen {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            action,
            target: header("x-amz-target"),
            service,
        }
    }

    fn describe(&self) -> String {
        match (&self.action, &self.target) {
            (Some(a), _) => format!("{} {a}", self.service),
            (None, Some(t)) => format!("{} {t}", self.service),
            _ => format!("{} {} {}", self.service, self.method, self.path),
        }
    }

    fn protocol(&self) -> Protocol {
        if self.action.is_some() {
            Protocol::Query
        } else if self.target.is_some() {
            Protocol::AwsJson
        } else {
            Protocol::RestJson
        }
    }
}

enum Protocol {
    Query,
    AwsJson,
    RestJson,
}

/// The (undecoded) value of `key` in an `a=b&c=d` string.
fn form_param(s: &str, key: &str) -> Option<String> {
    s.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Hangup> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Hangup),
    };
    let seen = Seen::new(&parts, &body);
    state.arrivals.lock().unwrap().push((
        std::time::Instant::now(),
        parts.method.to_string(),
        parts.uri.path().to_string(),
    ));
    let what = seen.describe();
    let Some((label, fault)) = state.pick(&seen) else {
        let r = forward(&state, parts, body).await;
        state.log(format!("{what} -> {}", outcome(&r)));
        return Ok(r);
    };
    match fault {
        Fault::Error {
            status,
            code,
            message,
        } => {
            state.log(format!("{what} -> injected {status} {code} [{label}]"));
            Ok(error_response(seen.protocol(), status, &code, &message))
        }
        Fault::Drop => {
            state.log(format!("{what} -> dropped the connection [{label}]"));
            Err(Hangup)
        }
        Fault::LoseResponse => {
            let r = forward(&state, parts, body).await;
            state.log(format!(
                "{what} -> {}, response lost on the way back [{label}]",
                outcome(&r)
            ));
            Err(Hangup)
        }
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            let r = forward(&state, parts, body).await;
            state.log(format!(
                "{what} -> delayed {d:?}, {} [{label}]",
                outcome(&r)
            ));
            Ok(r)
        }
    }
}

fn outcome(r: &Response<Full<Bytes>>) -> String {
    match r.headers().get("x-amzn-errortype") {
        Some(code) => format!(
            "moto {} {}",
            r.status().as_u16(),
            code.to_str().unwrap_or("?")
        ),
        None => format!("moto {}", r.status().as_u16()),
    }
}

/// Headers that belong to one connection, not to the message.
fn strip_hop_by_hop(h: &mut HeaderMap) {
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        // The body is passed on whole: hyper sets the length itself.
        "content-length",
    ] {
        h.remove(name);
    }
}

/// Sends the request to moto on a fresh connection and returns its answer;
/// a failure to reach moto becomes a 502 (and shows in the journal).
async fn forward(state: &State, mut parts: Parts, body: Bytes) -> Response<Full<Bytes>> {
    strip_hop_by_hop(&mut parts.headers);
    match try_forward(state.upstream, parts, body).await {
        Ok(r) => r,
        Err(e) => {
            let mut r = Response::new(Full::new(Bytes::from(format!(
                "fault proxy: cannot reach moto: {e}"
            ))));
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            r
        }
    }
}

async fn try_forward(
    upstream: SocketAddr,
    parts: Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let conn = tokio::spawn(conn);
    let req = Request::from_parts(parts, Full::new(body));
    let resp = sender.send_request(req).await?;
    let (mut rparts, rbody) = resp.into_parts();
    let bytes = rbody.collect().await?.to_bytes();
    drop(sender);
    conn.abort();
    strip_hop_by_hop(&mut rparts.headers);
    Ok(Response::from_parts(rparts, Full::new(bytes)))
}

/// An AWS error response as the service would send it.
fn error_response(
    protocol: Protocol,
    status: u16,
    code: &str,
    message: &str,
) -> Response<Full<Bytes>> {
    let request_id = "fa017000-0000-4000-8000-000000000000";
    let (content_type, body) = match protocol {
        Protocol::Query => {
            let kind = if status >= 500 { "Receiver" } else { "Sender" };
            (
                "text/xml",
                format!(
                    "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
                     <Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error>\
                     <RequestId>{request_id}</RequestId></ErrorResponse>",
                    xml_escape(code),
                    xml_escape(message)
                ),
            )
        }
        Protocol::AwsJson => (
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": code, "message": message}).to_string(),
        ),
        Protocol::RestJson => (
            "application/json",
            serde_json::json!({"__type": code, "message": message}).to_string(),
        ),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).expect("valid status code");
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    h.insert("x-amzn-requestid", HeaderValue::from_static(request_id));
    if matches!(protocol, Protocol::RestJson) {
        h.insert(
            HeaderName::from_static("x-amzn-errortype"),
            HeaderValue::from_str(code).expect("error code is a valid header value"),
        );
    }
    r
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
