//! Checks on finished documents: [`verify`] re-runs a report or attribution file and compares,
//! [`diff`] is the explanation-stability gate between two runs.

pub mod diff;
pub mod verify;
