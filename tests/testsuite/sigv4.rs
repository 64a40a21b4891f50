//! The SigV4 signer agentform signs MCP requests with agrees byte for byte
//! with botocore's `SigV4Auth` (what the AWS CLI, boto3 and the agent's own
//! `mcp-proxy-for-aws` client sign with), over requests with and without a
//! session token, with bodies, query strings, odd paths and extra headers.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use agentform::aws::sigv4::sign_request;
use aws_credential_types::Credentials;
use serde_json::{Value, json};

use crate::harness::python;

struct Case {
    method: &'static str,
    url: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    token: Option<&'static str>,
    region: &'static str,
    service: &'static str,
    time: u64,
}

const GW: &str = "https://gw-1a2b3c4d5e.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp";
const JSON: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
];

fn cases() -> Vec<Case> {
    let c = |method, url, headers, body, token, time| Case {
        method,
        url,
        headers,
        body,
        token,
        region: "us-east-1",
        service: "bedrock-agentcore",
        time,
    };
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"agentform","version":"0.1.0"}}}"#;
    vec![
        c("POST", GW, JSON, init, None, 1_700_000_000),
        c(
            "POST",
            GW,
            JSON,
            init,
            Some("FwoGZXIvYXdzEJr//////////wEaDHsession+token/="),
            1_700_000_000,
        ),
        c(
            "POST",
            GW,
            &[
                ("content-type", "application/json"),
                ("mcp-session-id", "4f1d2c3b"),
                ("mcp-protocol-version", "2025-06-18"),
            ],
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"abc=="}}"#,
            None,
            1_733_000_000,
        ),
        c(
            "POST",
            GW,
            JSON,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t___add","arguments":{"a":100,"b":12,"s":"ünïcode ✓"}}}"#,
            Some("tok"),
            1_764_000_000,
        ),
        c(
            "GET",
            GW,
            &[("accept", "text/event-stream"), ("mcp-session-id", "s-1")],
            "",
            None,
            1_764_000_001,
        ),
        c(
            "DELETE",
            GW,
            &[("mcp-session-id", "s-1")],
            "",
            Some("tok"),
            1_764_000_002,
        ),
        c(
            "GET",
            "https://bedrock-agentcore.us-east-1.amazonaws.com/runtimes?maxResults=10&nextToken=a%2Fb%3D&accountId=123456789012",
            &[],
            "",
            None,
            1_700_000_123,
        ),
        c(
            "POST",
            "https://bedrock-agentcore.us-east-1.amazonaws.com/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A123456789012%3Aruntime%2Fagent-AbC123/invocations?qualifier=DEFAULT",
            &[
                ("content-type", "application/json"),
                (
                    "x-amzn-bedrock-agentcore-runtime-session-id",
                    "agentform-0123456789abcdef0123456789abcdef",
                ),
            ],
            r#"{"prompt":"100 + 12"}"#,
            Some("tok2"),
            1_765_432_100,
        ),
        c(
            "POST",
            "http://127.0.0.1:5000/agentform-test/gateway/0a1b2c3d4e/mcp",
            JSON,
            "{}",
            None,
            1_700_000_000,
        ),
        c(
            "POST",
            "https://example.com/a/b%20c/~d?b=2&a=1&a=0&empty=",
            &[("x-custom", "  spaced   value ")],
            "x",
            None,
            1_700_000_000,
        ),
        Case {
            region: "eu-west-2",
            ..c(
                "POST",
                "https://gw.gateway.bedrock-agentcore.eu-west-2.amazonaws.com/mcp",
                JSON,
                "{}",
                Some("t"),
                1_800_000_000,
            )
        },
        Case {
            service: "lambda",
            ..c(
                "POST",
                "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f/invocations",
                JSON,
                r#"{"a":1}"#,
                None,
                1_700_000_000,
            )
        },
    ]
}

#[test]
fn the_signer_agrees_with_botocore() {
    let cases = cases();
    assert!(cases.len() >= 10);
    let (access, secret) = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "method": c.method, "url": c.url,
                "headers": c.headers.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
                "body": c.body, "access_key": access, "secret_key": secret, "token": c.token,
                "region": c.region, "service": c.service, "time": c.time,
            })
        })
        .collect();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/sigv4_botocore.py"
    );
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the venv's Python (scripts/setup-venv.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();

    for (c, want) in cases.iter().zip(&expected) {
        let mut b = http::Request::builder().method(c.method).uri(c.url);
        for (k, v) in c.headers {
            b = b.header(*k, *v);
        }
        let mut req = b.body(c.body.as_bytes().to_vec()).unwrap();
        let creds = Credentials::new(access, secret, c.token.map(str::to_string), None, "test");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(c.time);
        sign_request(&mut req, &creds, c.region, c.service, at).unwrap();
        let got = |h: &str| {
            req.headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(
            got("authorization").as_deref(),
            want["authorization"].as_str(),
            "{} {}",
            c.method,
            c.url
        );
        assert_eq!(got("x-amz-date").as_deref(), want["x-amz-date"].as_str());
        assert_eq!(
            got("x-amz-security-token").as_deref(),
            want["x-amz-security-token"].as_str()
        );
    }
}
