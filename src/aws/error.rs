//! What AWS said when a call failed, and the classes of failure the rest of
//! the layer acts on (not found, IAM propagation, conflicts).

use std::fmt::Debug;

use anyhow::Result;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
// One `SdkError` type serves every service client (each crate re-exports it
// from the shared smithy runtime).
use aws_sdk_sts::error::SdkError;

/// An AWS call that failed: the service's error code and message when it
/// answered, else the transport error chain.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub(crate) struct AwsError {
    pub code: Option<String>,
    pub message: Option<String>,
    /// The service's request id, for AWS support and CloudTrail.
    pub request_id: Option<String>,
    text: String,
}

impl<E, R> From<SdkError<E, R>> for AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    fn from(e: SdkError<E, R>) -> Self {
        use aws_types::request_id::RequestId;
        let code = e.code().map(str::to_string);
        let message = e.message().map(str::to_string);
        let request_id = e.meta().request_id().map(str::to_string);
        let rid = request_id
            .as_deref()
            .map(|r| format!(" (request id {r})"))
            .unwrap_or_default();
        let text = match (&code, &message) {
            (Some(c), Some(m)) => format!("{c}: {m}{rid}"),
            (Some(c), None) => format!("{c}{rid}"),
            _ => {
                // No service answer (timeout, connection, credentials...):
                // the whole source chain says what went wrong.
                let mut text = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    let s_text = s.to_string();
                    if !text.ends_with(&s_text) {
                        text.push_str(": ");
                        text.push_str(&s_text);
                    }
                    src = s.source();
                }
                text
            }
        };
        AwsError {
            code,
            message,
            request_id,
            text,
        }
    }
}

/// `.ctx(|| "creating role x".into())` on an SDK result: the error becomes
/// an [`AwsError`] wrapped in that context.
pub(crate) trait SdkResultExt<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E, R> SdkResultExt<T> for std::result::Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| anyhow::Error::new(AwsError::from(e)).context(what()))
    }
}

/// The [`AwsError`] somewhere in `err`'s chain.
pub(crate) fn aws_error(err: &anyhow::Error) -> Option<&AwsError> {
    err.chain().find_map(|e| e.downcast_ref::<AwsError>())
}

pub(crate) fn error_code(err: &anyhow::Error) -> Option<&str> {
    aws_error(err).and_then(|e| e.code.as_deref())
}

/// The service's words for `err` (falls back to the whole chain).
pub(crate) fn service_message(err: &anyhow::Error) -> String {
    match aws_error(err) {
        Some(e) => e.to_string(),
        None => format!("{err:#}"),
    }
}

/// Whether `err` is the service saying `code` with a message containing any of `needles`.
pub(crate) fn is_error(err: &anyhow::Error, code: &str, needles: &[&str]) -> bool {
    match aws_error(err) {
        Some(e) if e.code.as_deref() == Some(code) => {
            let m = e.message.as_deref().unwrap_or("");
            needles.is_empty() || needles.iter().any(|n| m.contains(n))
        }
        _ => false,
    }
}

/// "This resource does not exist", in any of the services' dialects.
pub(crate) fn is_not_found(err: &anyhow::Error) -> bool {
    matches!(
        error_code(err),
        Some(
            "NoSuchEntity"
                | "NoSuchEntityException"
                | "ResourceNotFoundException"
                | "RepositoryNotFoundException"
        )
    )
}

/// Turns "not found" into `None`.
pub(crate) fn found<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Turns "not found" into success (idempotent deletes).
pub(crate) fn gone(r: Result<()>) -> Result<()> {
    found(r).map(|_| ())
}

/// Errors a freshly created or changed IAM role causes until it has
/// propagated to the service that assumes it.
pub(crate) fn is_role_propagation(err: &anyhow::Error) -> bool {
    is_error(
        err,
        "InvalidParameterValueException",
        &[
            "cannot be assumed",
            "execution role does not have permissions",
        ],
    ) || is_error(
        err,
        "ValidationException",
        &[
            "Role validation failed",
            "Gateway execution role lacks permission",
            "Access denied while validating ECR URI",
        ],
    )
}

pub(crate) const PROPAGATION_WHY: &str =
    "IAM role not usable yet (IAM changes take a while to propagate)";

/// Another operation on the resource is still in flight.
pub(crate) fn is_conflict(e: &anyhow::Error) -> bool {
    is_error(e, "ConflictException", &[])
        // AgentCore Identity says a provider name is taken this way.
        || is_error(e, "ValidationException", &["already exists"])
}

/// What to do about the common classes of failure, in a sentence; `None`
/// for the rest (the service's own words say it then).
pub(crate) fn hint(err: &anyhow::Error) -> Option<String> {
    let e = aws_error(err)?;
    let code = e.code.as_deref()?;
    let message = e.message.as_deref().unwrap_or("");
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
        | "UnrecognizedClientException" | "InvalidClientTokenId" => {
            let action = between(message, "perform: ", " ");
            let resource = between(message, "on resource: ", " ");
            Some(match (action, resource) {
                (Some(a), Some(r)) => format!(
                    "the identity running agentform may not call {a} on {r}: grant it in that identity's IAM policy (README, \"Permissions\"), or run with credentials that have it"
                ),
                (Some(a), None) => format!(
                    "the identity running agentform may not call {a}: grant it in that identity's IAM policy (README, \"Permissions\")"
                ),
                _ => "the credentials in use are not allowed to do this: check which identity runs agentform (`aws sts get-caller-identity`) and its IAM policies (README, \"Permissions\")".into(),
            })
        }
        "ServiceQuotaExceededException" | "LimitExceededException" | "LimitExceeded"
        | "TooManyTagsException" => Some(
            "an AWS service quota is reached: delete resources you no longer need, or request an increase in the Service Quotas console (the message names the quota); then run the command again".into(),
        ),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => Some(
            "AWS kept throttling after the SDK's retries (AgentCore's write APIs allow about 5 requests per second per account): run the command again; it continues where it stopped".into(),
        ),
        "ValidationException" | "InvalidParameterValueException" | "InvalidParameterException" => {
            let field = between(message, "at '", "'");
            Some(match field {
                Some(f) => format!(
                    "AWS rejected the value of `{f}`: if it comes from the spec, fix it at the resource's line; if agentform derived it, please report it"
                ),
                None => "AWS rejected a value agentform sent: if it comes from the spec, fix it at the resource's line; if agentform derived it, please report it".into(),
            })
        }
        _ => None,
    }
}

/// The text between `start` and the next `end` in `s`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    let stop = rest.find(end).unwrap_or(rest.len());
    Some(rest[..stop].trim_end_matches(['.', ',']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str) -> anyhow::Error {
        anyhow::Error::new(AwsError {
            code: Some(code.into()),
            message: Some(message.into()),
            request_id: None,
            text: format!("{code}: {message}"),
        })
        .context("creating something")
    }

    #[test]
    fn hints_name_the_action_resource_or_field() {
        let denied = err(
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/ci is not authorized to perform: bedrock-agentcore:CreateGateway on resource: arn:aws:bedrock-agentcore:us-east-1:1:gateway/* because no identity-based policy allows it",
        );
        let h = hint(&denied).unwrap();
        assert!(
            h.contains("may not call bedrock-agentcore:CreateGateway on arn:aws:bedrock-agentcore:us-east-1:1:gateway/*"),
            "{h}"
        );
        let invalid = err(
            "ValidationException",
            "1 validation error detected: Value 'x y' at 'name' failed to satisfy constraint",
        );
        assert!(hint(&invalid).unwrap().contains("the value of `name`"));
        assert!(
            hint(&err(
                "ServiceQuotaExceededException",
                "Gateways per account"
            ))
            .unwrap()
            .contains("Service Quotas")
        );
        assert!(hint(&err("ResourceNotFoundException", "gone")).is_none());
        assert!(hint(&anyhow::anyhow!("not an AWS error")).is_none());
    }
}
