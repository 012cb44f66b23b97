//! What a checked command line does.

use rvs_api::{DaemonState, Mutation, SyncDaemon};
use rvs_core::model::ServiceKey;

use crate::errors::Func;
use crate::format::Format;

/// A checked command, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `-L` (or `-S` with [`Format::RULE`]): the whole table.
    ListAll(Format),
    /// `-L -t/-u/-f ...`: one service.
    ListService(ServiceKey, Format),
    /// `-L -c`: the connection table.
    ListConnections(Format),
    /// `-L --timeout`.
    ListTimeout,
    /// `-L --daemon`.
    ListDaemon,
    /// `-R`: read commands from standard input.
    Restore,
    /// A change of the table.
    Change(Mutation),
    /// `--start-daemon`.
    StartDaemon(SyncDaemon),
    /// `--stop-daemon`.
    StopDaemon(DaemonState),
}

/// The libipvs function a change corresponds to (it selects ipvsadm's error message).
pub fn mutation_func(m: &Mutation) -> Func {
    match m {
        Mutation::AddService { .. } => Func::AddService,
        Mutation::EditService { .. } => Func::UpdateService,
        Mutation::DelService { .. } => Func::DelService,
        Mutation::Flush => Func::Flush,
        Mutation::AddDest { .. } => Func::AddDest,
        Mutation::EditDest { .. } => Func::UpdateDest,
        Mutation::DelDest { .. } => Func::DelDest,
        Mutation::Zero { .. } => Func::ZeroService,
        Mutation::SetTimeouts { .. } => Func::SetTimeout,
    }
}
