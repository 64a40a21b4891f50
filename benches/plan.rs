//! Speed and memory of the offline core on large specs: load (parse, schema,
//! interpolation, meaning checks), desired-state build, diff against a
//! matching account, and rendering.
//!
//! `cargo bench --bench plan` prints a table; under `cargo test` it runs one
//! small round as a smoke test.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use agentform::model::Known;
use agentform::model::{Account, Ids};
use agentform::package::Package;
use agentform::plan::{desired, render};
use agentform::{plan, spec};

fn spec_text(gateways: usize, targets: usize, tools: usize) -> String {
    let mut s = String::from(
        "version: 1\nproject: bench\nfunctions:\n  tools:\n    source: lambda\n    runtime: python3.12\n    handler: handler.lambda_handler\ngateways:\n",
    );
    for g in 0..gateways {
        let _ = writeln!(
            s,
            "  gw{g}:\n    authorizer: aws_iam\n    search: semantic\n    targets:"
        );
        for t in 0..targets {
            let _ = writeln!(s, "      t{t}:\n        function: tools\n        tools:");
            for n in 0..tools {
                let _ = writeln!(
                    s,
                    "          - name: tool_{n}\n            description: Tool {n}\n            input:\n              type: object\n              properties:\n                a: {{type: number, description: first}}\n                b: {{type: array, items: {{type: string}}}}\n              required: [a]"
                );
            }
        }
    }
    s.push_str("repositories:\n  agent: {}\nruntimes:\n");
    for g in 0..gateways {
        let _ = writeln!(
            s,
            "  rt{g}:\n    artifact: {{container: {{repository: agent, tag: v1}}}}\n    environment: {{GATEWAY_URL: '${{gateways.gw{g}.url}}'}}\n    invoke_gateways: [gw{g}]"
        );
    }
    s
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn time<T>(rounds: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(f());
    }
    start.elapsed() / rounds
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let sizes: &[(usize, usize, usize)] = if bench {
        &[(1, 1, 3), (10, 5, 10), (50, 10, 10)]
    } else {
        &[(2, 2, 2)]
    };
    let rounds = if bench { 5 } else { 1 };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("lambda")).expect("mkdir");
    std::fs::write(
        dir.path().join("lambda/handler.py"),
        "def lambda_handler(e, c):\n    return e\n",
    )
    .expect("write");
    let account = Account {
        id: "123456789012".into(),
        region: "us-east-1".into(),
        partition: "aws".into(),
    };
    let packages = desired::Artifacts {
        image_digests: BTreeMap::new(),
        bundles: BTreeMap::new(),
        builds: BTreeMap::new(),
        packages: BTreeMap::from([(
            "tools".to_string(),
            Package {
                zip: vec![0; 1024],
                sha256: "x".into(),
            },
        )]),
    };
    println!(
        "{:>28} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "spec (gw x targets x tools)", "lines", "load", "build", "diff", "render"
    );
    for &(g, t, n) in sizes {
        let text = spec_text(g, t, n);
        let path = dir.path().join("agentform.yaml");
        let vars = spec::VarOverrides::new();
        let load = time(rounds, || {
            spec::load_str(&text, &path, dir.path(), &vars).expect("valid bench spec")
        });
        let loaded = spec::load_str(&text, &path, dir.path(), &vars).expect("valid bench spec");
        let build = time(rounds, || {
            desired::build(&loaded, &account, &packages, &Known::new())
        });
        let wanted = desired::build(&loaded, &account, &packages, &Known::new());
        let observed = plan::as_applied(&wanted, |_| Ids::default());
        let diff = time(rounds, || {
            plan::diff(&wanted, &observed, plan::Mode::Apply).expect("no conflicts")
        });
        let empty = plan::diff(&wanted, &[], plan::Mode::Apply).expect("no conflicts");
        let rendered = time(rounds, || render::plan(&empty));
        println!(
            "{:>28} {:>10} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?}",
            format!("{g} x {t} x {n} ({} resources)", wanted.len()),
            text.lines().count(),
            load,
            build,
            diff,
            rendered
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
