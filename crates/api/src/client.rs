//! A small blocking client: one method per operation, one request line and one response
//! line per call.

use core::net::IpAddr;
use std::io;
use std::path::Path;

use rvs_core::model::{DestConfig, ServiceConfig, ServiceKey, Timeouts};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::PROTOCOL_VERSION;
use crate::counters::DataplaneCounters;
use crate::entries::{ConnEntry, DaemonState, Info, ServiceEntry, SyncDaemon};
use crate::error::ApiError;
use crate::op::{Mutation, Op, Query};
use crate::transport::{Transport, UnixTransport};

/// A request line: `v` and `id` first, then the operation's fields.
#[derive(Serialize)]
struct Request<'a> {
    v: u32,
    id: u64,
    #[serde(flatten)]
    op: &'a Op,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket failed (connect, write, read, closed).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server's answer was not a valid response line.
    #[error("bad response from rvsd: {0}")]
    Protocol(String),
    /// The server refused the operation.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// A connection to rvsd (or to any [`Transport`]).
#[derive(Debug)]
pub struct Client<T = UnixTransport> {
    transport: T,
    next_id: u64,
}

impl Client<UnixTransport> {
    /// Connect to the socket at `path`.
    pub fn connect(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Client::new(UnixTransport::connect(path)?))
    }

    /// Connect to `$RVS_SOCKET`, else `/run/rvs/rvsd.sock`.
    pub fn connect_default() -> io::Result<Self> {
        Self::connect(crate::socket_path())
    }
}

impl<T: Transport> Client<T> {
    /// A client sending its requests over `transport`.
    pub fn new(transport: T) -> Self {
        Client {
            transport,
            next_id: 1,
        }
    }

    /// The transport (e.g. to reach an in-process backend in tests).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Send one operation and return the `"ok"` value of its response.
    pub fn call(&mut self, op: &Op) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let line = serde_json::to_string(&Request {
            v: PROTOCOL_VERSION,
            id,
            op,
        })
        .map_err(|e| ClientError::Protocol(format!("cannot encode request: {e}")))?;
        let response = self.transport.exchange(&line)?;
        decode_response(id, &response)
    }

    fn call_as<R: DeserializeOwned>(&mut self, op: Op) -> Result<R, ClientError> {
        let v = self.call(&op)?;
        serde_json::from_value(v)
            .map_err(|e| ClientError::Protocol(format!("unexpected reply to {}: {e}", op.name())))
    }

    fn mutate(&mut self, m: Mutation) -> Result<(), ClientError> {
        self.call(&Op::Mutate(m)).map(drop)
    }

    /// `add_service` (`-A`).
    pub fn add_service(&mut self, service: &ServiceConfig) -> Result<(), ClientError> {
        self.mutate(Mutation::AddService {
            service: service.clone(),
        })
    }

    /// `edit_service` (`-E`).
    pub fn edit_service(&mut self, service: &ServiceConfig) -> Result<(), ClientError> {
        self.mutate(Mutation::EditService {
            service: service.clone(),
        })
    }

    /// `del_service` (`-D`).
    pub fn del_service(&mut self, service: &ServiceKey) -> Result<(), ClientError> {
        self.mutate(Mutation::DelService { service: *service })
    }

    /// `flush` (`-C`).
    pub fn flush(&mut self) -> Result<(), ClientError> {
        self.mutate(Mutation::Flush)
    }

    /// `add_dest` (`-a`).
    pub fn add_dest(&mut self, service: &ServiceKey, dest: &DestConfig) -> Result<(), ClientError> {
        self.mutate(Mutation::AddDest {
            service: *service,
            dest: dest.clone(),
        })
    }

    /// `edit_dest` (`-e`).
    pub fn edit_dest(
        &mut self,
        service: &ServiceKey,
        dest: &DestConfig,
    ) -> Result<(), ClientError> {
        self.mutate(Mutation::EditDest {
            service: *service,
            dest: dest.clone(),
        })
    }

    /// `del_dest` (`-d`).
    pub fn del_dest(
        &mut self,
        service: &ServiceKey,
        addr: IpAddr,
        port: u16,
    ) -> Result<(), ClientError> {
        self.mutate(Mutation::DelDest {
            service: *service,
            addr,
            port,
        })
    }

    /// `zero` (`-Z`): one service, or everything with `None`.
    pub fn zero(&mut self, service: Option<&ServiceKey>) -> Result<(), ClientError> {
        self.mutate(Mutation::Zero {
            service: service.copied(),
        })
    }

    /// `set_timeouts` (`--set`); 0 leaves a timeout unchanged.
    pub fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), ClientError> {
        self.mutate(Mutation::SetTimeouts {
            timeouts: *timeouts,
        })
    }

    /// `apply`: all changes or none. A failure's [`ApiError::index`] names the failing change.
    pub fn apply(&mut self, ops: &[Mutation]) -> Result<(), ClientError> {
        self.call(&Op::Apply(ops.to_vec())).map(drop)
    }

    /// `list_services`.
    pub fn list_services(&mut self) -> Result<Vec<ServiceEntry>, ClientError> {
        self.call_as(Op::Query(Query::ListServices))
    }

    /// `get_service`.
    pub fn get_service(&mut self, service: &ServiceKey) -> Result<ServiceEntry, ClientError> {
        self.call_as(Op::Query(Query::GetService { service: *service }))
    }

    /// `list_connections`.
    pub fn list_connections(&mut self) -> Result<Vec<ConnEntry>, ClientError> {
        self.call_as(Op::Query(Query::ListConnections))
    }

    /// `get_timeouts`.
    pub fn get_timeouts(&mut self) -> Result<Timeouts, ClientError> {
        self.call_as(Op::Query(Query::GetTimeouts))
    }

    /// `info`.
    pub fn info(&mut self) -> Result<Info, ClientError> {
        self.call_as(Op::Query(Query::Info))
    }

    /// `daemon_status`.
    pub fn daemon_status(&mut self) -> Result<Vec<SyncDaemon>, ClientError> {
        self.call_as(Op::Query(Query::DaemonStatus))
    }

    /// `start_daemon`.
    pub fn start_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), ClientError> {
        self.call(&Op::Query(Query::StartDaemon {
            daemon: daemon.clone(),
        }))
        .map(drop)
    }

    /// `stop_daemon`.
    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<(), ClientError> {
        self.call(&Op::Query(Query::StopDaemon { state })).map(drop)
    }

    /// `counters`: the data plane's counters.
    pub fn counters(&mut self) -> Result<DataplaneCounters, ClientError> {
        self.call_as(Op::Query(Query::Counters))
    }
}

/// Check a response line against the request id and take its result apart.
fn decode_response(id: u64, line: &str) -> Result<Value, ClientError> {
    let v: Value =
        serde_json::from_str(line).map_err(|e| ClientError::Protocol(format!("not JSON: {e}")))?;
    let Value::Object(mut obj) = v else {
        return Err(ClientError::Protocol("response is not an object".into()));
    };
    match obj.get("v").and_then(Value::as_u64) {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        other => {
            return Err(ClientError::Protocol(format!(
                "unexpected protocol version {other:?}"
            )));
        }
    }
    if let Some(err) = obj.remove("error") {
        let e: ApiError = serde_json::from_value(err)
            .map_err(|e| ClientError::Protocol(format!("bad error object: {e}")))?;
        return Err(ClientError::Api(e));
    }
    match obj.get("id").and_then(Value::as_u64) {
        Some(got) if got == id => {}
        other => {
            return Err(ClientError::Protocol(format!(
                "response id {other:?} does not match request id {id}"
            )));
        }
    }
    obj.remove("ok")
        .ok_or_else(|| ClientError::Protocol("response has neither \"ok\" nor \"error\"".into()))
}
