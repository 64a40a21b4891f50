//! AgentCore's data plane: MCP sessions with gateways ([`super::mcp`]),
//! signed as the caller or as a runtime's execution role, and
//! InvokeAgentRuntime, streamed.

use anyhow::{Context, Result, anyhow};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

use super::mcp::{GatewayError, Session};
use super::{Aws, SdkResultExt, error_code};

/// Whose credentials sign the gateway requests.
pub enum RuntimeCredentials {
    /// The credential chain's (whoever runs agentform).
    Caller,
    /// A runtime's execution role, assumed through STS.
    Role { runtime: String, arn: String },
}

/// The answer of an agent runtime, read as it arrives.
pub struct Invocation {
    pub content_type: String,
    pub session_id: Option<String>,
    pub body: aws_smithy_types::byte_stream::ByteStream,
}

impl Aws {
    /// The caller's ARN (known after [`Aws::account`]).
    pub fn caller_arn(&self) -> Option<&str> {
        self.caller.get().map(String::as_str)
    }

    /// Credentials that sign as `who`.
    pub async fn credentials_for(
        &self,
        who: &RuntimeCredentials,
    ) -> Result<SharedCredentialsProvider> {
        match who {
            RuntimeCredentials::Caller => self.credentials.clone().ok_or_else(|| {
                anyhow!("no AWS credentials found (environment, profile or instance role)")
            }),
            RuntimeCredentials::Role { runtime, arn } => {
                let assumed = self
                    .sts
                    .assume_role()
                    .role_arn(arn)
                    .role_session_name("agentform-verify")
                    .duration_seconds(900)
                    .send()
                    .await
                    .ctx(|| format!("could not assume runtime {runtime}'s execution role {arn}"));
                let out = match assumed {
                    Ok(out) => out,
                    Err(e) if error_code(&e) == Some("AccessDenied") => {
                        let who = self
                            .caller_arn()
                            .unwrap_or("the identity running agentform");
                        return Err(anyhow!(
                            "could not assume runtime {runtime}'s execution role {arn}: {}\nhint: the role trusts only the AgentCore service unless the spec says otherwise. To check as the runtime, add the identity that runs agentform to the spec and apply:\n    verify_principals: [{}]\n(then {who} may assume the runtime roles of this project; the roles' permissions are unchanged)",
                            super::service_message(&e),
                            principal_of(who)
                        ));
                    }
                    Err(e) => return Err(e),
                };
                let c = out
                    .credentials()
                    .ok_or_else(|| anyhow!("STS AssumeRole returned no credentials"))?;
                let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
                Ok(SharedCredentialsProvider::new(Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_string()),
                    expiry,
                    "agentform-assume-role",
                )))
            }
        }
    }

    /// Opens an MCP session with the gateway at `url`, signed by `credentials`.
    pub async fn gateway_session(
        &self,
        url: &str,
        credentials: SharedCredentialsProvider,
    ) -> std::result::Result<Session, GatewayError> {
        let region = self
            .region
            .clone()
            .ok_or_else(|| GatewayError::Other("no AWS region configured".into()))?;
        Session::open(url, credentials, &region).await
    }

    /// InvokeAgentRuntime: `payload` (JSON) to the runtime `arn`, at the
    /// endpoint `qualifier` (`DEFAULT` when none), in `session`.
    pub async fn invoke_runtime(
        &self,
        arn: &str,
        qualifier: Option<&str>,
        session: &str,
        payload: Vec<u8>,
    ) -> Result<Invocation> {
        let out = self
            .agentcore_data
            .invoke_agent_runtime()
            .agent_runtime_arn(arn)
            .set_qualifier(qualifier.map(str::to_string))
            .runtime_session_id(session)
            .content_type("application/json")
            .payload(aws_smithy_types::Blob::new(payload))
            .send()
            .await
            .ctx(|| format!("InvokeAgentRuntime {arn}"))?;
        Ok(Invocation {
            content_type: out.content_type().to_string(),
            session_id: out.runtime_session_id().map(str::to_string),
            body: out.response,
        })
    }
}

/// The IAM principal a trust policy names for the caller `arn`: an
/// assumed-role session's role (`arn:aws:iam::1:role/R` for
/// `arn:aws:sts::1:assumed-role/R/session`), else the ARN itself.
pub fn principal_of(arn: &str) -> String {
    if let Some((head, rest)) = arn.split_once(":assumed-role/") {
        let role = rest.split('/').next().unwrap_or(rest);
        let head = head.replacen(":sts:", ":iam:", 1);
        return format!("{head}:role/{role}");
    }
    arn.to_string()
}

/// A fresh runtime session id: AgentCore wants at least 33 characters.
pub fn new_session_id() -> String {
    use sha2::Digest;
    let seed = format!(
        "{:?}{}{:?}",
        std::time::SystemTime::now(),
        std::process::id(),
        std::thread::current().id()
    );
    let hash = sha2::Sha256::digest(seed.as_bytes());
    let hex: String = hash.iter().take(18).map(|b| format!("{b:02x}")).collect();
    format!("agentform-{hex}")
}

impl Invocation {
    /// Whether the body is a server-sent-event stream.
    pub fn is_event_stream(&self) -> bool {
        self.content_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/event-stream"))
    }

    /// The next chunk of the body, `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>> {
        self.body
            .try_next()
            .await
            .context("reading the runtime's response")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_names_its_role() {
        assert_eq!(
            principal_of("arn:aws:sts::123456789012:assumed-role/ci-deploy/run-42"),
            "arn:aws:iam::123456789012:role/ci-deploy"
        );
        assert_eq!(
            principal_of("arn:aws:iam::123456789012:user/alice"),
            "arn:aws:iam::123456789012:user/alice"
        );
    }

    #[test]
    fn session_ids_are_long_enough_and_fresh() {
        let a = new_session_id();
        assert!(a.len() >= 33, "{a}");
        assert_ne!(a, new_session_id());
    }
}
