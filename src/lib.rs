//! agentform: provision Amazon Bedrock AgentCore stacks from one YAML spec.
//!
//! The pipeline, from pure to effectful:
//! - [`spec`]: parse and validate the spec (pure, offline).
//! - [`model`]: the closed set of resource kinds, typed addresses, values
//!   that may be unknown until apply, configs and what was observed.
//! - [`plan`]: what the spec means in AWS terms (derived IAM included), the
//!   diff against what exists, and its rendering (pure).
//! - [`apply`]: runs a plan through the [`apply::Cloud`] port, in
//!   dependency order; it never reads the spec.
//! - [`aws`]: the only module that talks to AWS; implements the port.
//! - [`ops`]: the steps commands are made of (package, observe, plan).
//! - [`cli`]: argument parsing, terminal output and progress.
//!
//! [`redact`] keeps sensitive values out of everything printed.
//!
//! [`names`] holds every physical-name rule, used by validation and the AWS
//! layer alike.

pub mod apply;
pub mod aws;
pub mod bundle;
pub mod cli;
pub mod diag;
pub mod image;
pub mod model;
pub mod names;
pub mod ops;
pub mod package;
pub mod plan;
pub mod redact;
pub mod spec;
