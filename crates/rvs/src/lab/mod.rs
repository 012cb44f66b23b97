//! `rvs lab`: the seed article's topologies built in network namespaces.
//!
//! `up` builds a [`plan::Plan`] with iproute2 and starts the built-in servers; it rolls back
//! whatever it built when a step fails. `down` removes a lab, also a half-built one.

pub mod down;
pub mod info;
pub mod plan;
pub mod state;
pub mod up;

pub use down::{DownReport, down};
pub use info::{LabInfo, Topology};
pub use up::{UpOptions, up};

use crate::error::{Error, Result};

/// The default lab name (namespace prefix).
pub const DEFAULT_NAME: &str = "rvs";

/// Checks that `name` is usable as a namespace prefix and a directory name.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::BadName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_state_directory_are_refused() {
        for bad in ["", "../x", "a/b", "-x", ".", "a b", &"x".repeat(33)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        for good in ["rvs", "t1", "lab_2-x", "9"] {
            assert!(validate_name(good).is_ok(), "{good:?}");
        }
    }
}
