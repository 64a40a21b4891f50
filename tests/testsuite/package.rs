//! What goes into a function's package, seen from the account: the zip
//! Lambda got holds the source directory and nothing else, a file planted
//! next to the project never gets in (not even through a symlink: plan and
//! apply refuse it, located at `source`), and a package over Lambda's
//! direct-upload limit is refused before anything is uploaded.
//!
//! moto gives no download URL (`Code.Location`) for code uploaded as a
//! `ZipFile`, so the test launcher serves the zip moto stored
//! (`/agentform-test/lambda-code/...`, see tests/support/moto_server.py).
//! Its SHA-256 must also be the `CodeSha256` GetFunction reports, and it
//! must be the zip agentform's library builds from the directory.

use std::io::{Read, Write};
use std::path::Path;

use crate::harness::{REGION, Test, moto, sdk};

/// The zip moto stored for the Lambda function `name`, as uploaded.
async fn uploaded_zip(sdk: &crate::harness::Sdk, name: &str) -> Vec<u8> {
    let account = sdk.account_id().await;
    let endpoint = moto().endpoint.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&endpoint).expect("connect to moto");
    write!(
        conn,
        "GET /agentform-test/lambda-code/{account}/{REGION}/{name} HTTP/1.0\r\nHost: {endpoint}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = Vec::new();
    conn.read_to_end(&mut response).expect("response");
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP response");
    let head = String::from_utf8_lossy(&response[..at]);
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200 "),
        "{head}"
    );
    response[at + 4..].to_vec()
}

fn listing(zip: &[u8]) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    archive
        .file_names()
        .map(|n| n.expect("entry name").into_owned())
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// A fake credentials file next to the project directory (removed with it).
struct Planted(tempfile::NamedTempFile);

const SECRET: &str = "aws_secret_access_key = PLANTED-SECRET-4711";

fn plant_next_to(project: &Path) -> Planted {
    let mut f = tempfile::Builder::new()
        .prefix("credentials-")
        .tempfile_in(project.parent().expect("the project has a parent"))
        .expect("planted file");
    writeln!(f, "[default]\n{SECRET}").expect("write planted file");
    Planted(f)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_source_directory_is_uploaded() {
    let t = Test::reference().project("pkgout");
    let sdk = sdk().await;
    // Outside the project, and inside it but outside the source directory.
    let planted = plant_next_to(&t.path(""));
    t.write("credentials", SECRET);

    t.run(&["apply", "--auto-approve"]).expect_ok();
    let function = sdk
        .lambda
        .get_function()
        .function_name("pkgout-tools")
        .send()
        .await
        .expect("GetFunction");
    let config = function.configuration().expect("configuration");
    let zip = uploaded_zip(&sdk, "pkgout-tools").await;
    assert_eq!(config.code_sha256(), Some(sha256(&zip).as_str()));
    assert_eq!(config.code_size(), zip.len() as i64);
    // Exactly the source directory, as the library packages it.
    let mut names = listing(&zip);
    names.sort();
    assert_eq!(names, ["handler.py", "test_handler.py"]);
    let built = agentform::package::package_dir(&t.path("lambda")).expect("package");
    assert_eq!(built.zip, zip);
    assert!(!String::from_utf8_lossy(&zip).contains("PLANTED"));

    // A symlink to the planted file: plan and apply refuse, at `source`,
    // without echoing it, and the deployed code stays as it was.
    std::os::unix::fs::symlink(planted.0.path(), t.path("lambda/creds")).expect("symlink");
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let out = t
            .run(args)
            .expect_code(1)
            .expect_stderr("error: function source `lambda` has a symlink out of it: `creds` -> ")
            .expect_stderr(" --> agentform.yaml:18:13")
            .expect_stderr("error: agentform.yaml has 1 problem");
        assert!(!out.stderr.contains("PLANTED"), "{out}");
    }
    let after = sdk
        .lambda
        .get_function()
        .function_name("pkgout-tools")
        .send()
        .await
        .expect("GetFunction");
    assert_eq!(
        after.configuration().and_then(|c| c.code_sha256()),
        config.code_sha256()
    );
    assert_eq!(uploaded_zip(&sdk, "pkgout-tools").await, zip);

    std::fs::remove_file(t.path("lambda/creds")).expect("rm link");
    t.run(&["destroy", "--auto-approve"]).expect_ok();
    let left = sdk.leftovers("pkgout").await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
}

/// Deterministic bytes deflate cannot shrink (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// 52 MB that does not compress: under the 250 MB unzipped limit, so
/// validate passes, but the zip passes Lambda's 50 MB direct-upload limit
/// while plan packages it: plan stops there, located at `source` (apply
/// plans the same way first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_refuses_a_package_over_the_upload_limit() {
    let t = Test::reference().project("zipcap");
    let sdk = sdk().await;
    std::fs::write(t.path("lambda/blob.bin"), noise(52 << 20)).expect("blob");
    t.run(&["validate"]).expect_ok();
    let out = t
        .run(&["plan"])
        .expect_code(1)
        .expect_stderr(
            "error: the package of function source `lambda` is over Lambda's 50 MB limit for a direct upload",
        )
        .expect_stderr(" --> agentform.yaml:18:13")
        .expect_stderr("the zip passed 50 MB while `blob.bin` was added");
    assert_eq!(out.stdout, "", "no plan is printed");
    assert!(
        out.stderr.starts_with("error: the package"),
        "nothing before the error: {out}"
    );
    let json = t.run(&["plan", "--json"]).expect_code(1);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON diagnostics");
    assert_eq!(doc["error_count"], 1, "{json}");
    assert_eq!(
        doc["diagnostics"][0]["range"]["start"]["line"], 18,
        "{json}"
    );
    let left = sdk.leftovers("zipcap").await;
    assert!(left.is_empty(), "plan created {left:#?}");
}
