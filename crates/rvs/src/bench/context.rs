//! What every measurement needs: the labs, the binaries, the work directory, the pinning and
//! the run's parameters; and the log of the commands that built each path (for the report).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::lab::LabInfo;

use super::labs::Labs;
use super::owncpu::OwnCpu;
use super::paths::PathKind;

/// The binaries the benchmark runs.
#[derive(Clone, Debug)]
pub struct Tools {
    /// This `rvs` binary (blast, sink).
    pub rvs: PathBuf,
    /// rvsd.
    pub rvsd: PathBuf,
    /// rvsadm.
    pub rvsadm: PathBuf,
}

impl Tools {
    /// `rvs` is this executable; rvsd and rvsadm are the given paths, else the binaries next
    /// to it (same cargo target directory), else whatever `PATH` finds.
    pub fn find(rvsd: Option<PathBuf>, rvsadm: Option<PathBuf>) -> Result<Tools> {
        let rvs = std::env::current_exe().map_err(|e| Error::io("finding the rvs binary", e))?;
        let sibling = |name: &str| -> PathBuf {
            let p = rvs.with_file_name(name);
            if p.exists() { p } else { PathBuf::from(name) }
        };
        Ok(Tools {
            rvsd: rvsd.unwrap_or_else(|| sibling("rvsd")),
            rvsadm: rvsadm.unwrap_or_else(|| sibling("rvsadm")),
            rvs,
        })
    }
}

/// The parameters of one run.
#[derive(Clone, Debug)]
pub struct Params {
    /// wrk duration of each HTTP run, seconds.
    pub http_secs: u64,
    /// wrk connections.
    pub connections: u32,
    /// Duration of each UDP run, seconds.
    pub udp_secs: f64,
    /// Ethernet frame size of the UDP datagrams (FCS included).
    pub udp_size: usize,
    /// Core of the load generators.
    pub gen_core: usize,
    /// Core of the system under test (balancer, real servers, sinks).
    pub sut_core: usize,
}

/// Everything a measurement needs.
#[derive(Debug)]
pub struct Ctx {
    /// The labs of this run.
    pub labs: Labs,
    /// The binaries.
    pub tools: Tools,
    /// Scratch directory for sockets, configurations and logs.
    pub work: PathBuf,
    /// Durations, sizes, cores.
    pub params: Params,
    /// The commands that set up each path, recorded the first time it is built.
    pub commands: BTreeMap<PathKind, Vec<String>>,
    /// The benchmark's own CPU accounting, when the machine offers it.
    pub own: Option<OwnCpu>,
}

impl Ctx {
    /// The lab `path` runs on.
    pub fn lab(&self, path: PathKind) -> Result<&LabInfo> {
        self.labs
            .get(path.lab())
            .ok_or_else(|| Error::Invalid(format!("no {} lab in this run", path.lab().as_str())))
    }

    /// Records a command that set up `path` (only while its list is being written first).
    pub fn note(&mut self, path: PathKind, first_time: bool, command: String) {
        if first_time {
            self.commands.entry(path).or_default().push(command);
        }
    }

    /// A file in the work directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// The work directory.
    pub fn work(&self) -> &Path {
        &self.work
    }
}
