//! Validation records and data inventories: dataset [`manifest`]s, performance per
//! [`slices`] with intervals, disparities and verdicts, explanation [`profiles`] per slice, and
//! the data [`inventory`] with target-market coverage.

pub mod inventory;
pub mod manifest;
pub mod profiles;
pub mod slices;
