//! The reference example (`examples/iam-gateway`) with its runtime on a
//! pushed ECR image instead of its code bundle. Shared, through `#[path]`,
//! by the crate's plan unit tests and the integration suite's harness:
//! their tests about images, roles, drift and faults of the image-based
//! stack neither install the agent's Python dependencies nor need a
//! package index.

/// `text` (the example spec) with the runtime's `code:` artifact replaced
/// by `container: {repository: agent, tag: ${var.image_tag}}`, the
/// repository declared and the `image_tag` variable (default `latest`)
/// added; panics when the example no longer has the shape rewritten here.
pub fn image_variant(text: &str) -> String {
    let code = regex::Regex::new(r"(?m)^    artifact:\n      code:\n(        .*\n)+").unwrap();
    assert!(
        code.is_match(text),
        "the example's runtime has no code artifact"
    );
    let text = code
        .replace(
            text,
            regex::NoExpand(
                "    artifact:\n      container:\n        repository: agent\n        tag: ${var.image_tag}\n",
            ),
        )
        .replacen(
            "\nruntimes:\n",
            "\nrepositories:\n  agent: {}\n\nruntimes:\n",
            1,
        )
        .replacen(
            "\nvariables:\n",
            "\nvariables:\n  image_tag:\n    default: latest\n",
            1,
        );
    assert!(text.contains("repositories:\n  agent: {}"), "{text}");
    assert!(text.contains("  image_tag:\n    default: latest"), "{text}");
    text
}
