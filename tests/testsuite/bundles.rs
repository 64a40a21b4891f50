//! A runtime deployed from a directory of agent code (AgentCore direct code
//! deployment), against moto, checked through the SDK: the project's bucket
//! (versioned, public access blocked, tagged), the bundle under a key named
//! by its inputs' hash with the requirements installed into it, the
//! runtime's codeConfiguration; an unchanged directory plans nothing, an
//! edited file plans one update that makes version 2, the old bundle stays
//! while a pinned endpoint serves it, and destroy empties and deletes the
//! bucket.

use std::io::Read;

use aws_sdk_bedrockagentcorecontrol::types::AgentRuntimeArtifact;
use aws_sdk_s3::types::BucketVersioningStatus;

use crate::harness::{Sdk, Test, python, sdk};

const SPEC: &str = r#"version: 1
project: bundle
runtimes:
  agent:
    artifact:
      code:
        source: agent
        entry_point: app.py
        runtime: python3.12
        requirements: requirements.txt
    endpoints:
      pinned: { version: 1 }
"#;

const BUCKET: &str = "agentform-bundle-123456789012-us-east-1";

/// The test venv's pip installs the requirements (pure Python: `six`).
fn pip() -> String {
    format!("{} -m pip", python().display())
}

async fn keys(sdk: &Sdk) -> Vec<String> {
    let listed = sdk
        .s3
        .list_object_versions()
        .bucket(BUCKET)
        .send()
        .await
        .expect("ListObjectVersions");
    let mut keys: Vec<String> = listed
        .versions()
        .iter()
        .map(|v| v.key().unwrap_or_default().to_string())
        .collect();
    keys.sort();
    keys
}

async fn zip_names(sdk: &Sdk, key: &str) -> Vec<String> {
    let body = sdk.object(BUCKET, key).await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut text = Vec::new();
        f.read_to_end(&mut text).unwrap();
        names.push(f.name().unwrap().to_string());
    }
    names
}

/// (version, bucket, key, runtime, entry point) of the runtime.
async fn deployed(sdk: &Sdk) -> (String, String, String, String, Vec<String>) {
    let r = sdk.the_runtime_named("bundle_agent").await;
    let Some(AgentRuntimeArtifact::CodeConfiguration(c)) = r.agent_runtime_artifact() else {
        panic!("not a code artifact: {:?}", r.agent_runtime_artifact());
    };
    let s3 = c.code().unwrap().as_s3().unwrap();
    (
        r.agent_runtime_version().to_string(),
        s3.bucket().to_string(),
        s3.prefix().to_string(),
        c.runtime().as_str().to_string(),
        c.entry_point().to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_bundle_runtime_deploys_from_a_directory() {
    let t = Test::new();
    t.write("agentform.yaml", SPEC);
    t.write("agent/app.py", "import six\nprint(six.__version__)\n");
    t.write("agent/requirements.txt", "six==1.16.0\n");
    let sdk = sdk().await;
    let pip = pip();
    // A cache of its own: the bundle is built here, not taken from one
    // another run left.
    let cache = t.path("cache").display().to_string();
    let env = [
        ("AGENTFORM_PIP", pip.as_str()),
        ("AGENTFORM_CACHE_DIR", cache.as_str()),
    ];

    t.run_env(&["apply", "--auto-approve"], &env)
        .expect_ok()
        .expect_stdout("Plan: 5 to add, 0 to change, 0 to replace, 0 to destroy.");

    // The bucket: versioned, public access blocked, the project's.
    let v = sdk
        .s3
        .get_bucket_versioning()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    let pab = sdk
        .s3
        .get_public_access_block()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let c = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            c.block_public_acls(),
            c.ignore_public_acls(),
            c.block_public_policy(),
            c.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let tags = sdk
        .s3
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let tag = |k: &str| {
        tags.tag_set()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_string())
    };
    assert_eq!(tag("agentform:project").as_deref(), Some("bundle"));
    assert_eq!(tag("agentform:resource").as_deref(), Some("s3_bucket.code"));

    // One bundle, content-addressed, with the requirement installed in it.
    let first = keys(&sdk).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let key = &first[0];
    let hash = key
        .strip_prefix("runtimes/agent/")
        .and_then(|k| k.strip_suffix(".zip"))
        .expect("runtimes/agent/<hash>.zip");
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
    let names = zip_names(&sdk, key).await;
    for want in ["app.py", "requirements.txt", "six.py"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    assert!(
        names.iter().any(|n| n.starts_with("six-1.16.0.dist-info/")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(".pyc")), "{names:?}");
    assert!(
        t.path(&format!("cache/bundles/{hash}.zip")).is_file(),
        "the built bundle is cached by its hash"
    );
    let (version, bucket, prefix, runtime, entry) = deployed(&sdk).await;
    assert_eq!(
        (
            version.as_str(),
            bucket.as_str(),
            prefix.as_str(),
            runtime.as_str()
        ),
        ("1", BUCKET, key.as_str(), "PYTHON_3_12")
    );
    assert_eq!(entry, ["app.py"]);

    // Unchanged directory: nothing to do.
    t.run_env(&["plan", "--detailed-exitcode"], &env)
        .expect_code(0)
        .expect_stdout("No changes");

    // One edited file: one runtime update naming the new bundle.
    t.append("agent/app.py", "print('v2')\n");
    let plan = t
        .run_env(&["plan", "--detailed-exitcode"], &env)
        .expect_code(2);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{plan}"
    );
    let line = plan
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("~ code_location"))
        .unwrap_or_else(|| panic!("no code_location change\n{plan}"));
    assert!(line.contains(hash) && line.contains(" -> "), "{line}");
    t.run_env(&["apply", "--auto-approve"], &env).expect_ok();
    let (version, _, prefix, _, _) = deployed(&sdk).await;
    assert_eq!(version, "2");
    assert_ne!(&prefix, key);
    // The pinned endpoint still serves version 1, whose bundle is kept.
    let ids = sdk.runtimes_named("bundle_agent").await;
    let pinned = sdk
        .agentcore
        .get_agent_runtime_endpoint()
        .agent_runtime_id(&ids[0])
        .endpoint_name("pinned")
        .send()
        .await
        .unwrap();
    assert_eq!(pinned.live_version(), Some("1"));
    let both = keys(&sdk).await;
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both.contains(key) && both.contains(&prefix), "{both:?}");
    t.run_env(&["plan", "--detailed-exitcode"], &env)
        .expect_code(0);

    // Destroy empties the bucket and deletes it.
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    assert!(sdk.s3.head_bucket().bucket(BUCKET).send().await.is_err());
    let left = sdk.leftovers("bundle").await;
    assert!(left.is_empty(), "left behind: {left:#?}");
}
