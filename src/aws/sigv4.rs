//! SigV4 signing of the HTTP requests agentform sends outside the SDK's
//! clients (MCP to a gateway), with the official `aws-sigv4` crate and the
//! same settings the AWS SDKs and botocore use for a JSON service: headers
//! signed (every header the request carries except the ones SigV4 excludes),
//! the payload hashed into the signature, the session token signed as
//! `X-Amz-Security-Token`.

use std::time::SystemTime;

use anyhow::{Context, Result};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

/// The signing name of AgentCore's data plane, gateways included.
pub const AGENTCORE_SERVICE: &str = "bedrock-agentcore";

/// Signs `request` in place: adds `X-Amz-Date`, `Authorization` and, for
/// temporary credentials, `X-Amz-Security-Token`. `Host` is signed from
/// the URI when the request does not set it.
pub fn sign_request(
    request: &mut http::Request<Vec<u8>>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<()> {
    let identity = credentials.clone().into();
    let params: aws_sigv4::http_request::SigningParams = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .context("SigV4 signing parameters")?
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .map(|(k, v)| Ok((k.as_str(), v.to_str()?)))
        .collect::<Result<_, http::header::ToStrError>>()
        .context("a header of the request to sign is not ASCII")?;
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .context("SigV4: the request cannot be signed")?;
    let (instructions, _signature) = sign(signable, &params)
        .context("SigV4 signing")?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> http::Request<Vec<u8>> {
        http::Request::builder()
            .method("POST")
            .uri("https://gw-1.gateway.bedrock-agentcore.us-east-1.amazonaws.com/mcp")
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)
    }

    fn authorization(r: &http::Request<Vec<u8>>) -> &str {
        r.headers()["authorization"].to_str().unwrap()
    }

    #[test]
    fn the_signature_covers_scope_headers_and_body() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let mut a = request("{}");
        sign_request(
            &mut a,
            &creds,
            "us-east-1",
            AGENTCORE_SERVICE,
            at(1_700_000_000),
        )
        .unwrap();
        let auth = authorization(&a);
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/bedrock-agentcore/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
            ),
            "{auth}"
        );
        assert_eq!(a.headers()["x-amz-date"], "20231114T221320Z");
        // Another body, time or secret gives another signature.
        let mut b = request("{\"a\":1}");
        sign_request(
            &mut b,
            &creds,
            "us-east-1",
            AGENTCORE_SERVICE,
            at(1_700_000_000),
        )
        .unwrap();
        assert_ne!(authorization(&b), auth);
        let mut c = request("{}");
        let other = Credentials::new("AKIDEXAMPLE", "other", None, None, "test");
        sign_request(
            &mut c,
            &other,
            "us-east-1",
            AGENTCORE_SERVICE,
            at(1_700_000_000),
        )
        .unwrap();
        assert_ne!(authorization(&c), auth);
    }

    #[test]
    fn a_session_token_is_sent_and_signed() {
        let creds = Credentials::new("ASIAEXAMPLE", "secret", Some("token".into()), None, "test");
        let mut r = request("{}");
        sign_request(
            &mut r,
            &creds,
            "eu-west-1",
            AGENTCORE_SERVICE,
            at(1_700_000_000),
        )
        .unwrap();
        assert_eq!(r.headers()["x-amz-security-token"], "token");
        assert!(
            authorization(&r)
                .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{}",
            authorization(&r)
        );
    }
}
