//! Sensitive places: masked in text and JSON, before and after alike; a
//! change there is said, never shown.

use super::*;
use crate::plan::{render, sensitive};
use std::collections::BTreeSet;

const OLD: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NEW: &str = "rotated-model-value";

#[test]
fn a_rotated_secret_shows_neither_value() {
    let l = example();
    let (known, observed) = applied(&l);
    let mut l2 = l.clone();
    l2.spec
        .runtimes
        .get_mut("agent")
        .unwrap()
        .environment
        .insert("BEDROCK_MODEL_ID".into(), NEW.into());
    let d = desired::build(&l2, &account(), &packages(), &known);
    let mut p = diff(&d, &observed, Mode::Apply).unwrap();
    sensitive::mark(&mut p, &[NEW.to_string()]);
    let text = render::plan(&p);
    assert!(
        text.contains("~ \"BEDROCK_MODEL_ID\" = (sensitive value changed)"),
        "{text}"
    );
    assert!(!text.contains(OLD) && !text.contains(NEW), "{text}");
    let j = render::plan_json(&p).to_string();
    assert!(!j.contains(OLD) && !j.contains(NEW), "{j}");
    let rt = render::plan_json(&p)["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "runtime.agent")
        .unwrap()["change"]
        .clone();
    assert_eq!(
        rt["before_sensitive"]["environment"]["BEDROCK_MODEL_ID"],
        true
    );
    assert_eq!(
        rt["after_sensitive"]["environment"]["BEDROCK_MODEL_ID"],
        true
    );
    assert!(rt["after"]["environment"]["GATEWAY_URL"].is_string());
}

#[test]
fn a_secret_inside_a_policy_or_a_scalar_masks_the_field() {
    let l = example();
    let d = desired::build(&l, &account(), &packages(), &Known::new());
    let mut p = diff(&d, &[], Mode::Apply).unwrap();
    // A value inside a plain string attribute masks that attribute.
    sensitive::mark(
        &mut p,
        &[
            "Strands agent".to_string(),
            "iam-auth-demo_nothing".to_string(),
        ],
    );
    let rt = render::change(p.get(&Address::Runtime("agent".into())).unwrap());
    assert!(
        rt.lines()
            .any(|l| l.trim().starts_with("+ description ") && l.ends_with("= (sensitive value)")),
        "{rt}"
    );
    assert!(!rt.contains("Strands agent"), "{rt}");
    assert!(sensitive::masked(
        &p.get(&Address::Runtime("agent".into())).unwrap().sensitive,
        &["description"]
    ));
    assert!(!sensitive::within(&BTreeSet::new(), &["description"]));
}
