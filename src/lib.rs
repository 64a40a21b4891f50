//! agentform: provision Amazon Bedrock AgentCore stacks from one YAML spec.
//!
//! Layers, from pure to effectful:
//! - [`spec`]: parse and validate the spec (pure, offline).
//! - [`names`], [`policy`], [`desired`], [`plan`], [`render`]: what the spec
//!   means in AWS terms, the diff against what exists, and its rendering (pure).
//! - [`aws`]: the only module that talks to AWS (observe, create, update,
//!   delete), one file per service.
//! - [`executor`]: runs a plan through [`aws`] in dependency order.
//! - [`cli`]: argument parsing, terminal output and progress.

pub mod aws;
pub mod cli;
pub mod desired;
pub mod diag;
pub mod executor;
pub mod model;
pub mod names;
pub mod ops;
pub mod package;
pub mod plan;
pub mod policy;
pub mod render;
pub mod spec;
