//! rollsim: a discrete-event simulator of Windows update rollouts through the Windows Update for
//! Business deployment service.
//!
//! The pipeline is: [`scenario::Scenario::load`] a TOML file → [`sim::run`] it for a seed and
//! replication → turn the [`sim::RunResult`] into files with [`report`]. [`commands`] runs that
//! pipeline (and the batch, merge, plot and validate ones) end to end as the `rollsim` binary
//! does, for programs that embed rollsim. The modules follow DESIGN.md's architecture:
//!
//! - [`engine`]: clock and event queues, knowing nothing of devices;
//! - [`fleet`]: devices, attributes, availability profiles;
//! - [`client`]: the Windows Update client state machine;
//! - [`service`]: the deployment service;
//! - [`metrics`]: state counts on a time grid, summaries;
//! - [`scenario`]: the file format and its validation;
//! - [`report`]: CSV/JSON writers and the terminal summary;
//! - [`sim`]: one run, gluing the above together;
//! - [`batch`]: replications, sweeps, bands across runs, run records and shards, gates;
//! - [`commands`]: the commands `run`, `batch`, `merge`, `plot` and `validate` as library
//!   functions taking options structs: what they check, print and write to an output folder
//!   (the binary's `cli.rs` only parses arguments into those structs);
//! - [`rng`]: the keyed random streams; [`time`]: seconds, durations, local clocks;
//! - [`error`]: the typed errors the binary maps to exit codes;
//! - [`mem`]: cache and page hints for the per-device arrays.
#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod batch;
pub mod client;
pub mod commands;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod mem;
pub mod metrics;
pub mod per_device;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod service;
pub mod sim;
pub mod time;

pub use error::Error;
pub use scenario::Scenario;
