//! The server side: a [`Backend`] trait with one method per operation, and [`handle_line`],
//! which turns one request line into one response line.

use core::net::IpAddr;

use rvs_core::model::{DestConfig, ServiceConfig, ServiceKey, Timeouts};
use serde::Serialize;
use serde_json::Value;

use crate::PROTOCOL_VERSION;
use crate::counters::DataplaneCounters;
use crate::entries::{ConnEntry, DaemonState, Info, ServiceEntry, SyncDaemon};
use crate::error::{ApiError, ErrorKind, errno};
use crate::op::{Mutation, Op, Query};
use crate::validate;

/// The feature the default daemon methods name when they refuse.
const SYNC_DAEMON: &str = "the connection synchronisation daemon";

/// What rvsd (or a test double) implements: one method per operation.
///
/// Every method either succeeds or changes nothing. [`handle_line`] has already validated
/// the request's shape (see `validate.rs`); semantic checks (exists, no such service,
/// scheduler names, ...) are the backend's, with IPVS's errnos.
pub trait Backend {
    /// `add_service` (`-A`).
    fn add_service(&mut self, service: &ServiceConfig) -> Result<(), ApiError>;
    /// `edit_service` (`-E`).
    fn edit_service(&mut self, service: &ServiceConfig) -> Result<(), ApiError>;
    /// `del_service` (`-D`).
    fn del_service(&mut self, service: &ServiceKey) -> Result<(), ApiError>;
    /// `flush` (`-C`).
    fn flush(&mut self) -> Result<(), ApiError>;
    /// `add_dest` (`-a`).
    fn add_dest(&mut self, service: &ServiceKey, dest: &DestConfig) -> Result<(), ApiError>;
    /// `edit_dest` (`-e`).
    fn edit_dest(&mut self, service: &ServiceKey, dest: &DestConfig) -> Result<(), ApiError>;
    /// `del_dest` (`-d`).
    fn del_dest(&mut self, service: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), ApiError>;
    /// `zero` (`-Z`): one service, or all (and the global counters) when `None`.
    fn zero(&mut self, service: Option<&ServiceKey>) -> Result<(), ApiError>;
    /// `set_timeouts` (`--set`): 0 leaves a timeout unchanged.
    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), ApiError>;
    /// `apply`: the changes in order, all or nothing. On failure the error's `index` names
    /// the failing change and the table is as before the call.
    fn apply(&mut self, ops: &[Mutation]) -> Result<(), ApiError>;
    /// `list_services`: all services, in the backend's order, destinations newest first.
    fn list_services(&self) -> Result<Vec<ServiceEntry>, ApiError>;
    /// `get_service`: one service (ESRCH if missing).
    fn get_service(&self, service: &ServiceKey) -> Result<ServiceEntry, ApiError>;
    /// `list_connections`: the connection table including templates.
    fn list_connections(&self) -> Result<Vec<ConnEntry>, ApiError>;
    /// `get_timeouts`.
    fn get_timeouts(&self) -> Result<Timeouts, ApiError>;
    /// `info`.
    fn info(&self) -> Result<Info, ApiError>;
    /// `daemon_status`: the running sync daemons (master first).
    /// By default none runs: rvsd has no connection synchronisation daemon yet.
    fn daemon_status(&self) -> Result<Vec<SyncDaemon>, ApiError> {
        Ok(Vec::new())
    }
    /// `start_daemon`.
    /// By default refused, naming the missing feature.
    fn start_daemon(&mut self, _daemon: &SyncDaemon) -> Result<(), ApiError> {
        Err(ApiError::unsupported(SYNC_DAEMON))
    }
    /// `stop_daemon`.
    /// By default refused, naming the missing feature.
    fn stop_daemon(&mut self, _state: DaemonState) -> Result<(), ApiError> {
        Err(ApiError::unsupported(SYNC_DAEMON))
    }
    /// `counters`: the data plane's counters. A backend without a data plane answers
    /// `unsupported`, which is what this default does.
    fn counters(&self) -> Result<DataplaneCounters, ApiError> {
        Err(ApiError::unsupported("data plane counters"))
    }
}

/// Run one change on a backend through its single-operation methods (what an `apply`
/// implementation does on its scratch copy).
pub fn apply_mutation(backend: &mut dyn Backend, m: &Mutation) -> Result<(), ApiError> {
    match m {
        Mutation::AddService { service } => backend.add_service(service),
        Mutation::EditService { service } => backend.edit_service(service),
        Mutation::DelService { service } => backend.del_service(service),
        Mutation::Flush => backend.flush(),
        Mutation::AddDest { service, dest } => backend.add_dest(service, dest),
        Mutation::EditDest { service, dest } => backend.edit_dest(service, dest),
        Mutation::DelDest {
            service,
            addr,
            port,
        } => backend.del_dest(service, *addr, *port),
        Mutation::Zero { service } => backend.zero(service.as_ref()),
        Mutation::SetTimeouts { timeouts } => backend.set_timeouts(timeouts),
    }
}

/// Handle one request line: parse, validate, dispatch, encode. Returns the response line
/// (without the trailing newline). Never panics; a bad request gets an error and changes
/// nothing.
pub fn handle_line(backend: &mut dyn Backend, line: &str) -> String {
    let (id, result) = match parse_request(line) {
        Ok((id, op)) => (id, dispatch(backend, &op)),
        Err((id, e)) => (id, Err(e)),
    };
    encode_response(id, result)
}

/// A response line: `v` and `id` first, then `ok` or `error`.
#[derive(Serialize)]
struct Response<'a> {
    v: u32,
    id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ok: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ApiError>,
}

/// Build a response line for request `id`.
fn encode_response(id: u64, result: Result<Value, ApiError>) -> String {
    let (ok, error) = match &result {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    let line = serde_json::to_string(&Response {
        v: PROTOCOL_VERSION,
        id,
        ok,
        error,
    });
    // Encoding plain values cannot fail; should it ever, the client still gets a line.
    line.unwrap_or_else(|e| {
        format!(r#"{{"v":{PROTOCOL_VERSION},"id":{id},"error":{{"kind":"internal","errno":5,"message":"cannot encode reply: {e}"}}}}"#)
    })
}

/// Split a request line into its id and operation; on failure, the id (0 if unreadable)
/// and the error to send back.
fn parse_request(line: &str) -> Result<(u64, Op), (u64, ApiError)> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        (
            0,
            ApiError::bad_request(format!("request is not JSON: {e}")),
        )
    })?;
    let Value::Object(mut obj) = value else {
        return Err((0, ApiError::bad_request("request is not a JSON object")));
    };
    let id = match obj.remove("id") {
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or(0),
        Some(_) => {
            return Err((
                0,
                ApiError::bad_request("\"id\" must be a non-negative integer"),
            ));
        }
        None => return Err((0, ApiError::bad_request("missing field `id`"))),
    };
    match obj.remove("v") {
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => {}
        Some(v) => {
            let e = ApiError::new(
                ErrorKind::BadVersion,
                errno::EINVAL,
                format!(
                    "protocol version {v} is not supported (this server speaks {PROTOCOL_VERSION})"
                ),
            );
            return Err((id, e));
        }
        None => return Err((id, ApiError::bad_request("missing field `v`"))),
    }
    let op: Op = serde_json::from_value(Value::Object(obj))
        .map_err(|e| (id, ApiError::bad_request(format!("bad request: {e}"))))?;
    validate::op(&op).map_err(|e| (id, e))?;
    Ok((id, op))
}

fn to_value<T: Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        ApiError::new(
            ErrorKind::Internal,
            errno::EIO,
            format!("cannot encode reply: {e}"),
        )
    })
}

fn dispatch(backend: &mut dyn Backend, op: &Op) -> Result<Value, ApiError> {
    match op {
        Op::Mutate(m) => apply_mutation(backend, m).map(|()| Value::Null),
        Op::Apply(ops) => backend.apply(ops).map(|()| Value::Null),
        Op::Query(q) => match q {
            Query::ListServices => to_value(&backend.list_services()?),
            Query::GetService { service } => to_value(&backend.get_service(service)?),
            Query::ListConnections => to_value(&backend.list_connections()?),
            Query::GetTimeouts => to_value(&backend.get_timeouts()?),
            Query::Info => to_value(&backend.info()?),
            Query::DaemonStatus => to_value(&backend.daemon_status()?),
            Query::StartDaemon { daemon } => backend.start_daemon(daemon).map(|()| Value::Null),
            Query::StopDaemon { state } => backend.stop_daemon(*state).map(|()| Value::Null),
            Query::Counters => to_value(&backend.counters()?),
        },
    }
}
