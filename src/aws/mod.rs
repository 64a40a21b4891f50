//! The AWS layer: the only module that talks to AWS, and the only one that
//! imports `aws_sdk_*` / `aws_config`.
//!
//! [`Aws`] translates between the SDK's types and the tool's own
//! [`Config`]/[`Observed`] types, one file per service:
//! [`iam`] (roles and their inline policy), [`lambda`], [`ecr`] and
//! [`agentcore`] (gateways, targets, runtimes). [`wait`] has the polling and
//! bounded-retry helpers.
//!
//! Rules every adapter follows:
//! - **Read back what we write, normalised.** `observe` returns the same
//!   [`Config`] structs the planner builds, so an unchanged resource compares
//!   equal (no spurious diffs): absent descriptions are `""`, absent maps are
//!   empty, IAM documents are URL-decoded and parsed, tool schemas carry only
//!   the keys AgentCore stores.
//! - **Errors say what failed, on which resource, and what the service said**
//!   (`code: message`), never just "service error".
//! - **Idempotent.** Deletes treat "not found" as done. A create that finds
//!   the resource already there (an SDK retry of a request that had in fact
//!   succeeded) adopts it when its ownership tags say it is this very
//!   resource, and fails otherwise.
//! - Throttling, 5xx and I/O errors are retried by the SDK (standard retry
//!   mode, 5 attempts). IAM propagation errors and conflicts are retried here,
//!   bounded ([`wait::retry`]).

mod agentcore;
mod ecr;
mod iam;
mod lambda;
#[cfg(test)]
mod moto_tests;
mod wait;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
// One `SdkError` type serves every service client (each crate re-exports it
// from the shared smithy runtime).
use aws_sdk_sts::error::SdkError;

use crate::model::{
    Account, Address, Config, Desired, Ids, Kind, Lookup, Observed, Owner, Progress, Tags,
};
use crate::names::{TAG_PROJECT, TAG_RESOURCE};

/// How many reads `observe` keeps in flight per service.
const CONCURRENCY: usize = 8;

/// Clients for every service agentform uses, plus the overall wait timeout.
pub struct Aws {
    iam: aws_sdk_iam::Client,
    lambda: aws_sdk_lambda::Client,
    ecr: aws_sdk_ecr::Client,
    agentcore: aws_sdk_bedrockagentcorecontrol::Client,
    sts: aws_sdk_sts::Client,
    region: Option<String>,
    /// Upper bound for waiting on one resource's status.
    timeout: Duration,
}

impl Aws {
    /// Standard AWS chain (env, profile, AWS_ENDPOINT_URL works unchanged). `region` overrides.
    pub async fn connect(
        region: Option<String>,
        profile: Option<String>,
        timeout: Duration,
    ) -> Result<Aws> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            // A safety net against a connection that hangs without closing;
            // generous enough for a large function zip on a slow link.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(300))
                    .build(),
            );
        if let Some(r) = region {
            loader = loader.region(Region::new(r));
        }
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let conf = loader.load().await;
        Ok(Aws::from_conf(&conf, timeout))
    }

    fn from_conf(conf: &SdkConfig, timeout: Duration) -> Aws {
        Aws {
            iam: aws_sdk_iam::Client::new(conf),
            lambda: aws_sdk_lambda::Client::new(conf),
            ecr: aws_sdk_ecr::Client::new(conf),
            agentcore: aws_sdk_bedrockagentcorecontrol::Client::new(conf),
            sts: aws_sdk_sts::Client::new(conf),
            region: conf.region().map(|r| r.to_string()),
            timeout,
        }
    }

    /// STS GetCallerIdentity + resolved region; partition derived from region.
    pub async fn account(&self) -> Result<Account> {
        let Some(region) = self.region.clone() else {
            bail!(
                "no AWS region configured: set `region:` in the spec, pass --region, or set AWS_REGION (or a region in your AWS profile)"
            );
        };
        let who = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .ctx(|| "could not identify the AWS account (STS GetCallerIdentity)".into())?;
        let id = who
            .account()
            .ok_or_else(|| anyhow!("STS GetCallerIdentity returned no account id"))?
            .to_string();
        Ok(Account {
            partition: partition_of(&region).to_string(),
            id,
            region,
        })
    }

    /// Read-only: every resource named by `lookups` (whatever its tags) and
    /// every resource tagged for `project`, with role policies and gateway
    /// targets. See the module docs of each service for the details.
    pub async fn observe(
        &self,
        account: &Account,
        project: &str,
        lookups: &[Lookup],
    ) -> Result<Vec<Observed>> {
        // Everything is found by name and tag; the account is implied by the
        // credentials (kept in the signature for ARN-based lookups later).
        let _ = account;
        let scope = Scope { project, lookups };
        let (iam, lambda, ecr, agentcore) = futures::try_join!(
            self.observe_iam(&scope),
            self.observe_lambda(&scope),
            self.observe_ecr(&scope),
            self.observe_agentcore(&scope),
        )?;
        let mut all: Vec<Observed> = [iam, lambda, ecr, agentcore]
            .into_iter()
            .flatten()
            .collect();
        all.sort_by(|a, b| {
            (a.kind, &a.parent, &a.name, &a.ids.id).cmp(&(b.kind, &b.parent, &b.name, &b.ids.id))
        });
        Ok(all)
    }

    /// Creates the resource (waiting until it is usable) and returns its ids.
    /// `parent` holds the parent gateway's ids for a target.
    pub async fn create(&self, d: &Desired, parent: &Ids, progress: &dyn Progress) -> Result<Ids> {
        let addr = &d.addr;
        match &d.config {
            Config::Role(c) => self.create_role(addr, c, progress).await,
            Config::RolePolicy(c) => self.put_role_policy(c).await,
            Config::Repository(c) => self.create_repository(addr, c).await,
            Config::Function(c) => self.create_function(addr, c, progress).await,
            Config::Gateway(c) => self.create_gateway(addr, c, progress).await,
            Config::Target(c) => self.create_target(addr, c, parent, progress).await,
            Config::Runtime(c) => self.create_runtime(addr, c, progress).await,
        }
    }

    /// Updates `current` in place to `d.config` and waits until it is usable.
    pub async fn update(
        &self,
        d: &Desired,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let addr = &d.addr;
        match (&d.config, &current.config) {
            (Config::Role(want), Config::Role(have)) => self.update_role(want, have, current).await,
            (Config::RolePolicy(want), Config::RolePolicy(_)) => {
                self.put_role_policy(want).await?;
                Ok(current.ids.clone())
            }
            (Config::Repository(want), Config::Repository(have)) => {
                self.update_repository(want, have, current).await
            }
            (Config::Function(want), Config::Function(have)) => {
                self.update_function(addr, want, have, current, progress)
                    .await
            }
            (Config::Gateway(want), Config::Gateway(_)) => {
                self.update_gateway(addr, want, current, progress).await
            }
            (Config::Target(want), Config::Target(_)) => {
                self.update_target(addr, want, current, progress).await
            }
            (Config::Runtime(want), Config::Runtime(_)) => {
                self.update_runtime(addr, want, current, progress).await
            }
            (want, have) => bail!(
                "cannot update {addr}: desired {} but found {}",
                want.kind().label(),
                have.kind().label()
            ),
        }
    }

    /// Deletes and waits until gone; "not found" at any point is success.
    pub async fn delete(
        &self,
        o: &Observed,
        force_repository: bool,
        progress: &dyn Progress,
    ) -> Result<()> {
        let addr = observed_addr(o);
        match &o.config {
            Config::Role(c) => self.delete_role(&c.name).await,
            Config::RolePolicy(c) => self.delete_role_policy(c).await,
            Config::Repository(c) => self.delete_repository(&c.name, force_repository).await,
            Config::Function(c) => self.delete_function(&c.name).await,
            Config::Gateway(_) => self.delete_gateway(&addr, o, progress).await,
            Config::Target(_) => self.delete_target(&addr, o, progress).await,
            Config::Runtime(_) => self.delete_runtime(&addr, o, progress).await,
        }
    }
}

/// What one `observe` call looks for.
pub(crate) struct Scope<'a> {
    pub project: &'a str,
    pub lookups: &'a [Lookup],
}

impl Scope<'_> {
    /// Physical names looked up for `kind`.
    pub fn names(&self, kind: Kind) -> BTreeSet<&str> {
        self.lookups
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.name.as_str())
            .collect()
    }

    /// Whether `tags` mark a resource as this project's.
    pub fn tagged_ours(&self, tags: &Tags) -> bool {
        tags.get(TAG_PROJECT).map(String::as_str) == Some(self.project)
    }

    /// Owner from the ownership tags. A resource tagged for this project
    /// whose `agentform:resource` tag is missing, unparseable or of another
    /// kind is treated as foreign: nothing will touch it.
    pub fn owner(&self, kind: Kind, tags: &Tags) -> Owner {
        match tags.get(TAG_PROJECT) {
            Some(p) if p == self.project => {
                match tags.get(TAG_RESOURCE).and_then(|r| Address::parse(r)) {
                    Some(a) if a.kind == kind => Owner::Ours(a),
                    _ => Owner::Foreign,
                }
            }
            Some(p) => Owner::OtherProject(p.clone()),
            None => Owner::Foreign,
        }
    }
}

/// The address progress notes use for an observed resource.
pub(crate) fn observed_addr(o: &Observed) -> Address {
    match &o.owner {
        Owner::Ours(a) => a.clone(),
        _ => Address::new(o.kind, o.name.clone()),
    }
}

pub(crate) fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

// ---------------------------------------------------------------------------
// Errors

/// An AWS call that failed: the service's error code and message when it
/// answered, else the transport error chain.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub(crate) struct AwsError {
    pub code: Option<String>,
    pub message: Option<String>,
    text: String,
}

impl<E, R> From<SdkError<E, R>> for AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    fn from(e: SdkError<E, R>) -> Self {
        let code = e.code().map(str::to_string);
        let message = e.message().map(str::to_string);
        let text = match (&code, &message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
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

// ---------------------------------------------------------------------------
// Tags

/// Tags to set (new or changed values) and keys to remove to go from `have` to `want`.
pub(crate) fn tag_changes(have: &Tags, want: &Tags) -> (Tags, Vec<String>) {
    let set: Tags = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

/// Whether a resource found under the name of one being created carries the
/// ownership tags of exactly that resource (so it is the result of an earlier
/// attempt of this very create, and can be adopted).
pub(crate) fn same_owner_tags(found: &Tags, want: &Tags) -> bool {
    want.get(TAG_PROJECT).is_some()
        && [TAG_PROJECT, TAG_RESOURCE]
            .iter()
            .all(|k| found.get(*k) == want.get(*k))
}

// ---------------------------------------------------------------------------
// IAM documents

/// IAM returns policy documents URL-encoded (RFC 3986, `+` sent as `%2B`):
/// decode, then parse.
pub(crate) fn decode_policy(raw: &str) -> Result<serde_json::Value> {
    let decoded = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        url_decode(raw)?
    };
    serde_json::from_str(&decoded)
        .with_context(|| format!("policy document is not JSON: {decoded}"))
}

fn url_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .ok_or_else(|| anyhow!("bad %-escape at byte {i}"))?;
                out.push(
                    u8::from_str_radix(hex, 16).map_err(|_| anyhow!("bad %-escape `%{hex}`"))?,
                );
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).context("policy document is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_iam_documents() {
        let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Sid%22%3A%22a+b%2Bc%22%7D%5D%7D";
        assert_eq!(
            decode_policy(raw).unwrap(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole", "Sid": "a b+c"}]})
        );
        assert_eq!(decode_policy(r#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        assert!(decode_policy("%7").is_err());
    }

    #[test]
    fn partitions() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn tag_changes_and_ownership() {
        let t = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Tags>()
        };
        let (set, remove) = tag_changes(
            &t(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &t(&[("a", "1"), ("b", "x"), ("d", "4")]),
        );
        assert_eq!(set, t(&[("b", "x"), ("d", "4")]));
        assert_eq!(remove, vec!["c".to_string()]);

        let scope = Scope {
            project: "demo",
            lookups: &[],
        };
        let ours = t(&[(TAG_PROJECT, "demo"), (TAG_RESOURCE, "gateway.main")]);
        assert_eq!(
            scope.owner(Kind::Gateway, &ours),
            Owner::Ours(Address::new(Kind::Gateway, "main"))
        );
        assert_eq!(scope.owner(Kind::Runtime, &ours), Owner::Foreign);
        assert_eq!(
            scope.owner(Kind::Gateway, &t(&[(TAG_PROJECT, "demo")])),
            Owner::Foreign
        );
        assert_eq!(
            scope.owner(Kind::Gateway, &t(&[(TAG_PROJECT, "other")])),
            Owner::OtherProject("other".into())
        );
        assert_eq!(scope.owner(Kind::Gateway, &t(&[])), Owner::Foreign);
        assert!(same_owner_tags(&ours, &ours));
        assert!(!same_owner_tags(
            &t(&[(TAG_PROJECT, "demo"), (TAG_RESOURCE, "gateway.x")]),
            &ours
        ));
        assert!(!same_owner_tags(&t(&[]), &t(&[])));
    }
}
