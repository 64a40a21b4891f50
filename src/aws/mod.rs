//! The AWS layer: the only module that talks to AWS, and the only one that
//! imports `aws_sdk_*` / `aws_config`.
//!
//! [`Aws`] translates between the SDK's types and the tool's own
//! [`Config`]/[`Observed`] types, one file per service:
//! [`iam`] (roles and their inline policy), [`lambda`], [`ecr`] and
//! [`agentcore`] (gateways, targets, runtimes, endpoints). [`wait`] has the
//! polling helpers and the one retry policy type, [`error`] the error
//! taxonomy, [`ownership`] the tag rules. [`Aws`] implements the executor's
//! [`Cloud`] port.
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
//! - Requests keep to AWS's rate quotas on the client side ([`quota`]).
//!   Throttling that still happens, 5xx and I/O errors are retried by the
//!   SDK (standard retry mode, 10 attempts, a retry budget that never runs
//!   dry). IAM propagation errors and conflicts are retried here,
//!   bounded ([`wait::Retry`]).

mod agentcore;
mod cognito;
mod dataplane;
mod ecr;
mod error;
mod iam;
mod lambda;
pub mod lock;
pub mod mcp;
mod ownership;
pub mod quota;
mod s3;
pub mod sigv4;
mod wait;

pub(crate) use dataplane::{RuntimeCredentials, new_session_id, principal_of};
pub(crate) use error::*;
pub(crate) use ownership::{Scope, same_owner_tags, tag_changes};

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use futures::{StreamExt, TryStreamExt};

use crate::apply::Cloud;
use crate::model::{
    Account, Config, DeleteOptions, Desired, Ids, Kind, Observed, Owner, Progress, Wanted,
};

/// How many reads `observe` keeps in flight per service.
const CONCURRENCY: usize = 8;

/// Clients for every service agentform uses, plus the overall wait timeout.
pub struct Aws {
    iam: aws_sdk_iam::Client,
    lambda: aws_sdk_lambda::Client,
    ecr: aws_sdk_ecr::Client,
    s3: aws_sdk_s3::Client,
    agentcore: aws_sdk_bedrockagentcorecontrol::Client,
    sts: aws_sdk_sts::Client,
    ssm: aws_sdk_ssm::Client,
    /// Reads the secrets AgentCore Identity keeps for credential providers.
    secrets: aws_sdk_secretsmanager::Client,
    /// User pools and app clients of `cognito_m2m` gateways.
    cognito: aws_sdk_cognitoidentityprovider::Client,
    /// AgentCore's data plane (InvokeAgentRuntime).
    agentcore_data: aws_sdk_bedrockagentcore::Client,
    /// The credential chain's identity, for requests signed outside the
    /// SDK's clients (MCP to a gateway).
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    /// The caller's ARN, from the GetCallerIdentity of [`Aws::account`].
    caller: std::sync::OnceLock<String>,
    region: Option<String>,
    /// Upper bound for waiting on one resource's status.
    timeout: Duration,
    /// The caller's account, read once (the lock and the plan both need it).
    account: tokio::sync::OnceCell<Account>,
    /// The request quotas (the HTTP layer holds the same ones) and tallies.
    quotas: Arc<quota::Quotas>,
    /// The inline policy documents of the roles the last observe found,
    /// by role and policy name (read with the roles, used for their
    /// policies).
    role_documents: std::sync::Mutex<
        std::collections::HashMap<String, std::collections::BTreeMap<String, serde_json::Value>>,
    >,
}

/// A client of `$sdk` with the quota [`quota::Meter`] on every attempt,
/// and throttling that gets past the client-side limits retried with the
/// SDK's jittered exponential backoff (up to 20 s apart), up to 10
/// attempts, from a retry budget per client that never runs dry (the
/// shared default one empties under a burst of throttles and then stops
/// retrying at all).
macro_rules! client {
    ($sdk:ident, $conf:expr, $quotas:expr) => {{
        use $sdk::config::retry::{RetryPartition, TokenBucket};
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($conf)
                .retry_config(RetryConfig::standard().with_max_attempts(10))
                .retry_partition(
                    RetryPartition::custom(concat!("agentform-", stringify!($sdk)))
                        .token_bucket(TokenBucket::unlimited())
                        .build(),
                )
                .interceptor(quota::Meter::new($quotas.clone()))
                .build(),
        )
    }};
}

impl Aws {
    /// Standard AWS chain (env, profile, AWS_ENDPOINT_URL works unchanged). `region` overrides.
    pub async fn connect(
        region: Option<String>,
        profile: Option<String>,
        timeout: Duration,
        rate_scale: f64,
        rates: std::collections::BTreeMap<String, u32>,
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
            if !crate::names::valid_region(&r) {
                bail!(
                    "`{r}` is not an AWS region name (they look like us-east-1 or eu-west-2); check --region, the spec's `region` or AWS_REGION"
                );
            }
            loader = loader.region(Region::new(r));
        }
        // A profile asked for, by flag or by AWS_PROFILE, must exist.
        let asked = profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
        if let Some(p) = &asked {
            check_profile(p).await?;
        }
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let conf = loader.load().await;
        // Every request goes through the client-side quotas.
        let quotas = Arc::new(quota::Quotas::new(rate_scale).with_rates(rates));
        let inner = conf.http_client().unwrap_or_else(quota::default_client);
        let conf = conf
            .into_builder()
            .http_client(quota::limited(inner, quotas.clone()))
            .build();
        Ok(Aws::from_conf(&conf, timeout, quotas))
    }

    fn from_conf(conf: &SdkConfig, timeout: Duration, quotas: Arc<quota::Quotas>) -> Aws {
        Aws {
            iam: client!(aws_sdk_iam, conf, quotas),
            lambda: client!(aws_sdk_lambda, conf, quotas),
            ecr: client!(aws_sdk_ecr, conf, quotas),
            s3: {
                // An S3-compatible endpoint (an emulator, a VPC endpoint by
                // IP) takes path-style addresses; AWS's own, virtual hosts.
                let s3 = client!(aws_sdk_s3, conf, quotas);
                if conf.endpoint_url().is_some() {
                    aws_sdk_s3::Client::from_conf(
                        s3.config().to_builder().force_path_style(true).build(),
                    )
                } else {
                    s3
                }
            },
            agentcore: client!(aws_sdk_bedrockagentcorecontrol, conf, quotas),
            sts: client!(aws_sdk_sts, conf, quotas),
            ssm: client!(aws_sdk_ssm, conf, quotas),
            secrets: client!(aws_sdk_secretsmanager, conf, quotas),
            cognito: client!(aws_sdk_cognitoidentityprovider, conf, quotas),
            agentcore_data: client!(aws_sdk_bedrockagentcore, conf, quotas),
            credentials: conf.credentials_provider(),
            caller: std::sync::OnceLock::new(),
            quotas,
            region: conf.region().map(|r| r.to_string()),
            timeout,
            account: tokio::sync::OnceCell::new(),
            role_documents: Default::default(),
        }
    }

    /// What to tell the user about throttling after a run: `None` when AWS
    /// throttled nothing. The per-API tallies go to the debug log either way.
    pub fn throttle_note(&self) -> Option<String> {
        let tallies = self.quotas.tallies();
        let requests: u64 = tallies.values().map(|t| t.requests).sum();
        tracing::debug!(requests, ?tallies, "requests sent, per API");
        let n: u64 = tallies.values().map(|t| t.throttled).sum();
        if n == 0 {
            return None;
        }
        let throttled: Vec<String> = tallies
            .iter()
            .filter(|(_, t)| t.throttled > 0)
            .map(|(api, t)| format!("{} {}", api.rsplit(':').next().unwrap_or(api), t.throttled))
            .collect();
        Some(format!(
            "note: AWS throttled {n} of {requests} requests ({}); each was retried with backoff.",
            throttled.join(", ")
        ))
    }

    /// STS GetCallerIdentity + resolved region; partition derived from
    /// region. Asked once per run; later calls get the same answer.
    pub async fn account(&self) -> Result<Account> {
        self.account
            .get_or_try_init(|| self.identify())
            .await
            .cloned()
    }

    async fn identify(&self) -> Result<Account> {
        let Some(region) = self.region.clone() else {
            bail!(
                "no AWS region configured: set `region:` in the spec, pass --region, or set AWS_REGION (or a region in your AWS profile)"
            );
        };
        // The first call of every command: when the endpoint cannot be
        // reached, say so within a second or two rather than after the
        // standard five attempts.
        let who = self
            .sts
            .get_caller_identity()
            .customize()
            .config_override(
                aws_sdk_sts::config::Builder::default()
                    .retry_config(RetryConfig::standard().with_max_attempts(2)),
            )
            .send()
            .await
            .ctx(|| "could not identify the AWS account (STS GetCallerIdentity)".into())
            .map_err(explain_identity_error)?;
        if let Some(arn) = who.arn() {
            let _ = self.caller.set(arn.to_string());
        }
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

    /// Read-only: every resource named by `wanted` (whatever its tags) and
    /// every resource tagged for `project`, then the children of every
    /// parent found. Each kind is read by exactly one arm of
    /// [`Aws::observe_kind`]: a new kind does not compile until it says how.
    pub async fn observe(
        &self,
        account: &Account,
        project: &str,
        wanted: &[Wanted],
    ) -> Result<Vec<Observed>> {
        let scope = Scope {
            project,
            region: &account.region,
            wanted,
        };
        let scope = &scope;
        let top = futures::future::try_join_all(
            Kind::ALL
                .into_iter()
                .filter(|k| k.parent().is_none())
                .map(|k| self.observe_kind(k, scope, &[])),
        )
        .await?
        .concat();
        let children = futures::future::try_join_all(
            Kind::ALL
                .into_iter()
                .filter_map(|k| k.parent().map(|p| (k, p)))
                .map(|(k, p)| {
                    let parents: Vec<&Observed> = top.iter().filter(|o| o.kind() == p).collect();
                    async move { self.observe_kind(k, scope, &parents).await }
                }),
        )
        .await?
        .concat();
        let mut all = top;
        all.extend(children);
        tracing::debug!(
            resources = all.len(),
            ours = all
                .iter()
                .filter(|o| matches!(o.owner, crate::model::Owner::Ours(_)))
                .count(),
            "observed the account"
        );
        all.sort_by(|a, b| {
            (a.kind(), a.parent(), a.name(), &a.ids.id).cmp(&(
                b.kind(),
                b.parent(),
                b.name(),
                &b.ids.id,
            ))
        });
        Ok(all)
    }

    /// Resources of one kind: top-level kinds by name and tag, children
    /// through each of `parents` (the observed resources of the parent kind).
    async fn observe_kind(
        &self,
        kind: Kind,
        s: &Scope<'_>,
        parents: &[&Observed],
    ) -> Result<Vec<Observed>> {
        let children = futures::stream::iter(parents.iter().copied())
            .map(|p| async move {
                match kind {
                    Kind::RolePolicy => self.observe_role_policies(s, p).await,
                    Kind::GatewayTarget => self.observe_targets(p).await,
                    Kind::RuntimeEndpoint => self.observe_endpoints(p).await,
                    Kind::Policy => self.observe_policies(p).await,
                    Kind::M2mClient => self.observe_m2m_clients(p).await,
                    Kind::Role
                    | Kind::Repository
                    | Kind::Bucket
                    | Kind::Function
                    | Kind::Gateway
                    | Kind::Runtime
                    | Kind::Memory
                    | Kind::ApiKeyProvider
                    | Kind::OAuthProvider
                    | Kind::PolicyEngine
                    | Kind::UserPool => Ok(vec![]),
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<Vec<Observed>>>();
        match kind {
            Kind::Role => self.observe_roles(s).await,
            Kind::Repository => self.observe_ecr(s).await,
            Kind::Bucket => self.observe_buckets(s).await,
            Kind::Function => self.observe_lambda(s).await,
            Kind::Gateway => self.observe_gateways(s).await,
            Kind::Runtime => self.observe_runtimes(s).await,
            Kind::Memory => self.observe_memories(s).await,
            Kind::ApiKeyProvider => self.observe_api_key_providers(s).await,
            Kind::OAuthProvider => self.observe_oauth_providers(s).await,
            Kind::PolicyEngine => self.observe_policy_engines(s).await,
            Kind::UserPool => self.observe_user_pools(s).await,
            Kind::RolePolicy
            | Kind::GatewayTarget
            | Kind::RuntimeEndpoint
            | Kind::Policy
            | Kind::M2mClient => Ok(children.await?.concat()),
        }
    }
}

impl Cloud for Aws {
    /// Creates the resource (waiting until it is usable) and returns its ids.
    async fn create(
        &self,
        d: &Desired,
        parent: Option<&Ids>,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let addr = &d.addr;
        match &d.config {
            Config::Role(c) => self.create_role(addr, c, progress).await,
            Config::RolePolicy(c) => self.put_role_policy(c).await,
            Config::Repository(c) => self.create_repository(addr, c).await,
            Config::Bucket(c) => self.create_bucket(addr, c).await,
            Config::Function(c) => self.create_function(addr, c, progress).await,
            Config::Gateway(c) => self.create_gateway(addr, c, progress).await,
            Config::Target(c) => self.create_target(addr, c, parent, progress).await,
            Config::Runtime(c) => self.create_runtime(addr, c, progress).await,
            Config::Endpoint(c) => self.create_endpoint(addr, c, parent, progress).await,
            Config::Memory(c) => self.create_memory(addr, c, progress).await,
            Config::ApiKeyProvider(c) => self.create_api_key_provider(addr, c).await,
            Config::OAuthProvider(c) => self.create_oauth_provider(addr, c).await,
            Config::PolicyEngine(c) => self.create_policy_engine(addr, c, progress).await,
            Config::Policy(c) => self.create_policy(addr, c, parent, progress).await,
            Config::UserPool(c) => self.create_user_pool(addr, c).await,
            Config::M2mClient(c) => self.create_m2m_client(addr, c, parent).await,
        }
    }

    /// Updates `current` in place to `d.config` and waits until it is usable.
    async fn update(
        &self,
        d: &Desired,
        current: &Observed,
        progress: &dyn Progress,
    ) -> Result<Ids> {
        let addr = &d.addr;
        let mismatch = || {
            anyhow!(
                "internal error: cannot update {addr}: desired {} but found {}",
                d.config.kind(),
                current.kind()
            )
        };
        match &d.config {
            Config::Role(want) => {
                let Config::Role(have) = &current.config else {
                    return Err(mismatch());
                };
                self.update_role(want, have, current).await
            }
            Config::RolePolicy(want) => {
                self.put_role_policy(want).await?;
                Ok(current.ids.clone())
            }
            Config::Repository(want) => {
                let Config::Repository(have) = &current.config else {
                    return Err(mismatch());
                };
                self.update_repository(want, have, current).await
            }
            Config::Bucket(want) => {
                self.configure_bucket(want).await?;
                Ok(current.ids.clone())
            }
            Config::Function(want) => {
                let Config::Function(have) = &current.config else {
                    return Err(mismatch());
                };
                self.update_function(addr, want, have, current, progress)
                    .await
            }
            Config::Gateway(want) => self.update_gateway(addr, want, current, progress).await,
            Config::Target(want) => self.update_target(addr, want, current, progress).await,
            Config::Runtime(want) => self.update_runtime(addr, want, current, progress).await,
            Config::Endpoint(want) => self.update_endpoint(addr, want, current, progress).await,
            Config::Memory(want) => self.update_memory(addr, want, current, progress).await,
            Config::ApiKeyProvider(want) => {
                self.update_api_key_provider_in_place(want, current).await
            }
            Config::OAuthProvider(want) => self.update_oauth_provider_in_place(want, current).await,
            Config::PolicyEngine(want) => {
                self.update_policy_engine(addr, want, current, progress)
                    .await
            }
            Config::Policy(want) => self.update_policy(addr, want, current, progress).await,
            Config::UserPool(want) => self.update_user_pool(want, current).await,
            Config::M2mClient(want) => self.update_m2m_client(addr, want, current).await,
        }
    }

    /// Waits out CREATING/UPDATING of the asynchronous kinds; the others are
    /// usable as soon as they exist.
    async fn wait(&self, o: &Observed, progress: &dyn Progress) -> Result<Ids> {
        let Owner::Ours(addr) = &o.owner else {
            bail!(
                "internal error: {} `{}` does not belong to this project",
                o.kind(),
                o.config.display_name()
            );
        };
        match &o.config {
            Config::Gateway(_) => self.wait_gateway_ready(addr, o, progress).await,
            Config::Target(_) => self.wait_target_ready(addr, o, progress).await,
            Config::Runtime(_) => self.wait_runtime_ready(addr, o, progress).await,
            Config::Endpoint(_) => self.wait_endpoint_ready(addr, o, progress).await,
            Config::Memory(_) => self.wait_memory_ready(addr, o, progress).await,
            Config::PolicyEngine(_) => self.wait_policy_engine_ready(addr, o, progress).await,
            Config::Policy(_) => self.wait_policy_ready(addr, o, progress).await,
            Config::Role(_)
            | Config::RolePolicy(_)
            | Config::Repository(_)
            | Config::Bucket(_)
            | Config::Function(_)
            | Config::ApiKeyProvider(_)
            | Config::OAuthProvider(_)
            | Config::UserPool(_)
            | Config::M2mClient(_) => Ok(o.ids.clone()),
        }
    }

    fn hint(&self, e: &anyhow::Error) -> Option<String> {
        error::hint(e)
    }

    /// Deletes and waits until gone; "not found" at any point is success.
    /// Refuses anything the project does not own (the planner never plans
    /// that; this is the last line of defence).
    async fn delete(
        &self,
        o: &Observed,
        options: DeleteOptions,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Owner::Ours(addr) = &o.owner else {
            bail!(
                "internal error: refusing to delete {} `{}`: it does not belong to this project",
                o.kind(),
                o.config.display_name()
            );
        };
        match &o.config {
            Config::Role(c) => self.delete_role(&c.name).await,
            Config::RolePolicy(c) => self.delete_role_policy(c).await,
            Config::Repository(c) => self.delete_repository(&c.name, options.force).await,
            Config::Bucket(c) => self.delete_bucket(&c.name).await,
            Config::Function(c) => self.delete_function(&c.name).await,
            Config::Gateway(_) => self.delete_gateway(addr, o, progress).await,
            Config::Target(_) => self.delete_target(addr, o, progress).await,
            Config::Runtime(_) => self.delete_runtime(addr, o, progress).await,
            Config::Endpoint(_) => self.delete_endpoint(addr, o, progress).await,
            Config::Memory(_) => self.delete_memory(addr, o, progress).await,
            Config::ApiKeyProvider(_) | Config::OAuthProvider(_) => {
                self.delete_credential_provider(o).await
            }
            Config::PolicyEngine(_) => self.delete_policy_engine(addr, o, progress).await,
            Config::Policy(_) => self.delete_policy(addr, o, progress).await,
            Config::UserPool(_) => self.delete_user_pool(o).await,
            Config::M2mClient(_) => self.delete_m2m_client(o).await,
        }
    }
}

/// The OAuth2 vendors agentform configures: (spec word, API vendor type).
pub fn credential_vendors() -> &'static [(&'static str, &'static str)] {
    agentcore::VENDORS
}

/// What to do about an AWS failure, when it is of a well-known class.
pub fn hint(e: &anyhow::Error) -> Option<String> {
    error::hint(e)
}

/// The first call every command makes fails for reasons with well-known
/// fixes: say them instead of the SDK's last words.
fn explain_identity_error(e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}");
    if text.contains("loading credentials") || text.contains("no credentials") {
        anyhow!(
            "no AWS credentials found. agentform looks where the AWS CLI does: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, --profile or AWS_PROFILE in ~/.aws/config and ~/.aws/credentials (for SSO profiles run `aws sso login --profile NAME` first), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), container and instance roles.\n(the SDK said: {text})"
        )
    } else if text.contains("dispatch failure") && std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        anyhow!(
            "could not reach AWS at AWS_ENDPOINT_URL={}: is the endpoint up? Unset AWS_ENDPOINT_URL to use AWS itself.\n(the SDK said: {text})",
            std::env::var("AWS_ENDPOINT_URL").unwrap_or_default()
        )
    } else {
        e
    }
}

/// Fails when `--profile` names a profile the shared config and credentials
/// files do not define (the SDK would quietly fall back to other sources of
/// credentials, which may be another account).
async fn check_profile(name: &str) -> Result<()> {
    use aws_types::os_shim_internal::{Env, Fs};
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &files, None)
        .await
        .map_err(|e| anyhow!("reading the AWS config files for profile `{name}`: {e}"))?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    bail!(
        "AWS profile `{name}` is not defined in ~/.aws/config or ~/.aws/credentials (or the files AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE name); {}",
        if known.is_empty() {
            "no profiles are defined: run `aws configure --profile NAME` or `aws configure sso`"
                .to_string()
        } else {
            format!("defined: {}", known.join(", "))
        }
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn children_are_one_level_deep() {
        // `observe` reads children in one round, after their parents.
        for k in Kind::ALL {
            if let Some(p) = k.parent() {
                assert_eq!(p.parent(), None, "{k}");
            }
        }
    }
}
