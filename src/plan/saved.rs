//! Saved plans (`plan --out FILE`, `apply FILE`, `show FILE`): the plan as
//! reviewed, with what it was computed from, so apply can run exactly it or
//! refuse when anything it was based on has changed since (Terraform's
//! stale-plan check).
//!
//! What is checked, each with its own message: the spec file's bytes; the
//! spec after variables and `${env:…}` are substituted; the account and
//! region; every resource observed (a fingerprint of what was read back:
//! config, ids, status, owner); and the packaged code and image digests
//! (a fresh plan must equal the saved one). Function code is not stored:
//! apply packages the source again, and the hash check proves the bytes
//! are the ones planned.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Plan;
use crate::model::{Account, Config, Observed};

/// What the file says it is.
pub const FORMAT: &str = "agentform-plan";
/// Bumped on any change to this file's shape.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: String,
    pub version: u32,
    pub agentform_version: String,
    /// The spec file as given, and the SHA-256 of its bytes.
    pub spec_path: String,
    pub spec_sha256: String,
    /// SHA-256 of the spec after substitution (variables, environment).
    pub inputs_sha256: String,
    pub account: Account,
    /// Fingerprint of each resource observed, by `kind name`.
    pub observed: BTreeMap<String, String>,
    pub plan: Plan,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `kind parent/name (id)`: how a resource is named in the fingerprints
/// (also resources that have no address, e.g. a foreign one in the way;
/// the id tells twins apart).
fn key(o: &Observed) -> String {
    match &o.ids.id {
        Some(id) => format!("{} {} ({id})", o.kind(), o.config.display_name()),
        None => format!("{} {}", o.kind(), o.config.display_name()),
    }
}

/// The fingerprint of everything observed.
pub fn fingerprints(observed: &[Observed]) -> BTreeMap<String, String> {
    observed
        .iter()
        .map(|o| {
            // Key order is not part of a resource's state (AWS hands some
            // maps out in any order): hash the keys sorted.
            let mut v = serde_json::to_value(o).expect("observed resources serialize");
            v.sort_all_objects();
            let text = serde_json::to_vec(&v).expect("JSON serializes");
            (key(o), sha256_hex(&text))
        })
        .collect()
}

/// What a plan was computed from.
pub struct Inputs<'a> {
    pub spec_path: &'a str,
    pub spec_source: &'a str,
    /// [`crate::spec::LoadedSpec::resolved_sha256`].
    pub resolved_sha256: &'a str,
    pub account: &'a Account,
    pub observed: &'a [Observed],
}

impl SavedPlan {
    pub fn new(plan: &Plan, i: &Inputs<'_>) -> SavedPlan {
        SavedPlan {
            format: FORMAT.into(),
            version: VERSION,
            agentform_version: env!("CARGO_PKG_VERSION").into(),
            spec_path: i.spec_path.into(),
            spec_sha256: sha256_hex(i.spec_source.as_bytes()),
            inputs_sha256: i.resolved_sha256.to_string(),
            account: i.account.clone(),
            observed: fingerprints(i.observed),
            plan: plan.clone(),
        }
    }

    /// Reads a saved plan, refusing files of another shape or version.
    pub fn parse(text: &str) -> Result<SavedPlan, String> {
        let head: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("not an agentform plan file (not JSON: {e})"))?;
        if head.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(
                "not an agentform plan file (write one with `agentform plan --out FILE`)".into(),
            );
        }
        let version = head.get("version").and_then(|v| v.as_u64());
        let made_by = head
            .get("agentform_version")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        if version != Some(u64::from(VERSION)) || made_by != env!("CARGO_PKG_VERSION") {
            return Err(format!(
                "the plan was made by agentform {made_by}, this is {}: plan again with this version",
                env!("CARGO_PKG_VERSION")
            ));
        }
        serde_json::from_value(head).map_err(|e| format!("the plan file is damaged: {e}"))
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("plans serialize")
    }

    /// Why this plan may not be applied now, given what apply sees: empty
    /// when nothing it was computed from has changed. `fresh` is the plan
    /// computed now from `now`.
    pub fn stale(&self, now: &Inputs<'_>, fresh: &Plan) -> Vec<String> {
        let mut why = Vec::new();
        if now.account != &self.account {
            why.push(format!(
                "the plan is for account {} in {}; these credentials are for account {} in {}",
                self.account.id, self.account.region, now.account.id, now.account.region
            ));
            return why;
        }
        if sha256_hex(now.spec_source.as_bytes()) != self.spec_sha256 {
            why.push(format!(
                "{} changed since the plan was made (it was {} then)",
                now.spec_path, self.spec_path
            ));
        } else if now.resolved_sha256 != self.inputs_sha256 {
            why.push(
                "the spec's variables or environment values differ from the plan's (--var, AGENTFORM_VAR_*, --var-file, ${env:…})".into(),
            );
        }
        let seen = fingerprints(now.observed);
        let names: BTreeSet<&String> = seen.keys().chain(self.observed.keys()).collect();
        for n in names {
            match (self.observed.get(n), seen.get(n)) {
                (Some(a), Some(b)) if a != b => why.push(format!("{n} changed in the account")),
                (Some(_), None) => why.push(format!("{n} is gone from the account")),
                (None, Some(_)) => why.push(format!("{n} appeared in the account")),
                _ => {}
            }
        }
        if why.is_empty() {
            // Same spec, same account: what is left are the artifacts
            // (function code, image digests) and anything read besides.
            for (a, b) in without_code(&self.plan)
                .changes
                .iter()
                .zip(without_code(fresh).changes.iter())
            {
                if a != b {
                    why.push(format!("{} would be planned differently now", a.addr));
                }
            }
            if self.plan.changes.len() != fresh.changes.len() {
                why.push("the plan has a different set of resources now".into());
            }
        }
        why
    }

    /// The saved plan with function code filled in from `fresh` (whose
    /// hashes `stale` proved equal).
    pub fn with_code_of(&self, fresh: &Plan) -> Plan {
        let mut p = self.plan.clone();
        for c in &mut p.changes {
            let code = fresh
                .get(&c.addr)
                .and_then(|f| f.desired.as_ref())
                .and_then(|d| match &d.config {
                    Config::Function(f) => f.code.clone(),
                    _ => None,
                });
            let bundle = fresh
                .get(&c.addr)
                .and_then(|f| f.desired.as_ref())
                .and_then(|d| match &d.config {
                    Config::Runtime(r) => match &r.artifact {
                        crate::model::RuntimeArtifact::Code { bundle, .. } => Some(bundle.clone()),
                        crate::model::RuntimeArtifact::Container { .. } => None,
                    },
                    _ => None,
                });
            let fresh_config = fresh
                .get(&c.addr)
                .and_then(|f| f.desired.as_ref())
                .map(|d| &d.config);
            match c.desired.as_mut().map(|d| &mut d.config) {
                Some(Config::Function(f)) => f.code = code,
                // Secret values are never saved; equal digests were proved.
                Some(Config::ApiKeyProvider(k)) => {
                    if let Some(Config::ApiKeyProvider(f)) = fresh_config {
                        k.api_key = f.api_key.clone();
                    }
                }
                Some(Config::OAuthProvider(o)) => {
                    if let Some(Config::OAuthProvider(f)) = fresh_config {
                        o.client_secret = f.client_secret.clone();
                    }
                }
                // The saved key names the bundle's inputs: the staleness
                // check has already refused a plan whose source changed.
                Some(Config::Runtime(r)) => {
                    if let (
                        crate::model::RuntimeArtifact::Code { bundle: b, .. },
                        Some(fresh_bundle),
                    ) = (&mut r.artifact, bundle)
                    {
                        *b = fresh_bundle;
                    }
                }
                _ => {}
            }
        }
        p
    }
}

fn without_code(p: &Plan) -> Plan {
    let mut p = p.clone();
    for c in &mut p.changes {
        if let Some(Config::Function(f)) = c.desired.as_mut().map(|d| &mut d.config) {
            f.code = None;
        }
    }
    p
}
