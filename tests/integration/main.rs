//! Integration tests: they run the `rollsim` binary on scenario files, as a user would.
//! One test binary (`docs/reference/style-by-example.md` §2.12), grouped by topic.

mod bad_corpus;
mod bad_input;
mod batch;
mod catalog;
mod charts;
mod common;
mod core_model;
mod docs;
mod exploit;
mod exposure;
mod golden;
mod off_periods;
mod outputs;
mod per_device;
mod properties;
mod safety;
mod segments;
mod service;
mod time_zones;
