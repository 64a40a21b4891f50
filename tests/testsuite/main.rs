//! The integration tests, as one test binary (the layout of cargo's own
//! `tests/testsuite`): the AWS SDK is linked once, and every module shares
//! the one moto server that `harness` starts on first use.
//!
//! Run one module with `cargo test --test testsuite lifecycle::`.

mod harness;

mod builds;
mod bundles;
mod cli;
mod dataplane;
mod drift;
mod endpoints;
mod faults;
mod fuzz_seeds;
mod import;
mod lifecycle;
mod m2m;
mod memories;
mod own_roles;
mod package;
mod policies;
mod runtimes;
mod safety;
mod saved;
mod schema;
mod secrets;
mod sigv4;
mod targets;
mod update_only;
mod validate;
