//! rvsd's implementation of the control protocol: the core's `Config` (IPVS rules and
//! errors), pushed to the data plane after every change and saved to the state file.

use core::net::IpAddr;

use rvs_api::{
    ApiError, Backend, ConnEntry, DataplaneCounters, DestEntry, ErrorKind, Info, Mutation,
    ServiceEntry, errno,
};
use rvs_core::config::{Config, Service};
use rvs_core::model::{DestConfig, ServiceConfig, ServiceKey, Timeouts};

use crate::engine::{Engine, Readings};
use crate::state::StateFile;

/// The table plus what it drives.
pub struct RvsdBackend {
    config: Config,
    engine: Box<dyn Engine>,
    state: Option<StateFile>,
}

impl RvsdBackend {
    /// A backend with an empty table driving `engine`, saving to `state` when given.
    pub fn new(engine: Box<dyn Engine>, state: Option<StateFile>) -> Self {
        RvsdBackend {
            config: Config::new(),
            engine,
            state,
        }
    }

    /// Load the state file (if any) and install it. A state file that does not load is an
    /// error: rvsd refuses to start with a half configuration.
    pub fn restore(&mut self) -> anyhow::Result<usize> {
        let Some(state) = &self.state else {
            return Ok(0);
        };
        let Some(text) = state.load()? else {
            return Ok(0);
        };
        let ops: Vec<Mutation> = serde_json::from_str::<SavedState>(&text)
            .map_err(|e| {
                anyhow::anyhow!("{}: not an rvsd state file: {e}", state.path().display())
            })?
            .ops;
        let mut config = Config::new();
        for (i, op) in ops.iter().enumerate() {
            apply_to_config(&mut config, op).map_err(|e| {
                anyhow::anyhow!(
                    "{}: change {} fails: {}",
                    state.path().display(),
                    i + 1,
                    e.message
                )
            })?;
        }
        self.config = config;
        self.engine.install(&self.config.snapshot())?;
        Ok(self.config.services().len())
    }

    /// Save the table to the state file, if rvsd keeps one.
    fn save(&self) -> Result<(), ApiError> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        let saved = SavedState {
            rvsd_state: 1,
            ops: config_as_ops(&self.config),
        };
        let text = serde_json::to_string_pretty(&saved).map_err(|e| {
            ApiError::new(
                ErrorKind::Internal,
                errno::EIO,
                format!("cannot encode state: {e}"),
            )
        })?;
        state.store(&text).map_err(|e| {
            tracing::error!("cannot save state to {}: {e}", state.path().display());
            ApiError::new(
                ErrorKind::Internal,
                errno::EIO,
                format!("applied, but saving {} failed: {e}", state.path().display()),
            )
        })
    }

    /// Run `change` on a copy of the table. Only when it succeeds and the data plane takes
    /// the result does it become the table; then it is saved.
    fn change(
        &mut self,
        change: impl FnOnce(&mut Config) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let mut next = self.config.clone();
        change(&mut next)?;
        if let Err(e) = self.engine.install(&next.snapshot()) {
            // Put the previous configuration back everywhere it may have reached.
            if let Err(again) = self.engine.install(&self.config.snapshot()) {
                tracing::error!("restoring the previous configuration failed: {again:#}");
            }
            return Err(data_plane_error(e));
        }
        self.config = next;
        self.save()
    }

    fn readings(&self) -> Readings {
        self.engine
            .readings(&self.config.snapshot())
            .unwrap_or_else(|e| {
                tracing::warn!("reading worker counters: {e:#}");
                Readings::default()
            })
    }

    fn entry(svc: &Service, r: &Readings) -> ServiceEntry {
        let s = r.services.get(&svc.id);
        ServiceEntry {
            service: svc.config.clone(),
            stats: s.map(|s| s.counters).unwrap_or_default(),
            rates: s.map(|s| s.rates()).unwrap_or_default(),
            dests: svc
                .dests
                .iter()
                .map(|d| {
                    let (st, conns) = r.dests.get(&d.id).cloned().unwrap_or_default();
                    DestEntry {
                        dest: d.config.clone(),
                        active_conns: conns.active,
                        inact_conns: conns.inactive,
                        persist_conns: conns.persistent,
                        stats: st.counters,
                        rates: st.rates(),
                    }
                })
                .collect(),
        }
    }
}

/// What the state file holds: the changes that rebuild the table, in order.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedState {
    rvsd_state: u32,
    ops: Vec<Mutation>,
}

/// The table as a list of changes that rebuild it: timeouts, then each service followed by
/// its destinations oldest first (so the newest-first order comes back).
fn config_as_ops(config: &Config) -> Vec<Mutation> {
    let mut ops = vec![Mutation::SetTimeouts {
        timeouts: config.timeouts(),
    }];
    for svc in config.services() {
        ops.push(Mutation::AddService {
            service: svc.config.clone(),
        });
        for d in svc.dests.iter().rev() {
            ops.push(Mutation::AddDest {
                service: svc.config.key,
                dest: d.config.clone(),
            });
        }
    }
    ops
}

/// Apply one change to a table (the rules and errors are the core's).
fn apply_to_config(config: &mut Config, m: &Mutation) -> Result<(), ApiError> {
    match m {
        Mutation::AddService { service } => config.add_service(service.clone()).map(drop)?,
        Mutation::EditService { service } => config.edit_service(service.clone())?,
        Mutation::DelService { service } => config.del_service(service)?,
        Mutation::Flush => config.flush(),
        Mutation::AddDest { service, dest } => config.add_dest(service, dest.clone()).map(drop)?,
        Mutation::EditDest { service, dest } => config.edit_dest(service, dest.clone())?,
        Mutation::DelDest {
            service,
            addr,
            port,
        } => config.del_dest(service, *addr, *port)?,
        Mutation::Zero { service } => config.zero(service.as_ref())?,
        Mutation::SetTimeouts { timeouts } => config.set_timeouts(*timeouts)?,
    }
    Ok(())
}

impl Backend for RvsdBackend {
    fn add_service(&mut self, service: &ServiceConfig) -> Result<(), ApiError> {
        self.change(|c| {
            apply_to_config(
                c,
                &Mutation::AddService {
                    service: service.clone(),
                },
            )
        })
    }

    fn edit_service(&mut self, service: &ServiceConfig) -> Result<(), ApiError> {
        self.change(|c| {
            apply_to_config(
                c,
                &Mutation::EditService {
                    service: service.clone(),
                },
            )
        })
    }

    fn del_service(&mut self, service: &ServiceKey) -> Result<(), ApiError> {
        self.change(|c| apply_to_config(c, &Mutation::DelService { service: *service }))
    }

    fn flush(&mut self) -> Result<(), ApiError> {
        self.change(|c| apply_to_config(c, &Mutation::Flush))
    }

    fn add_dest(&mut self, service: &ServiceKey, dest: &DestConfig) -> Result<(), ApiError> {
        self.change(|c| {
            apply_to_config(
                c,
                &Mutation::AddDest {
                    service: *service,
                    dest: dest.clone(),
                },
            )
        })
    }

    fn edit_dest(&mut self, service: &ServiceKey, dest: &DestConfig) -> Result<(), ApiError> {
        self.change(|c| {
            apply_to_config(
                c,
                &Mutation::EditDest {
                    service: *service,
                    dest: dest.clone(),
                },
            )
        })
    }

    fn del_dest(&mut self, service: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), ApiError> {
        self.change(|c| {
            apply_to_config(
                c,
                &Mutation::DelDest {
                    service: *service,
                    addr,
                    port,
                },
            )
        })
    }

    fn zero(&mut self, service: Option<&ServiceKey>) -> Result<(), ApiError> {
        self.change(|c| {
            apply_to_config(
                c,
                &Mutation::Zero {
                    service: service.copied(),
                },
            )
        })
    }

    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), ApiError> {
        self.change(|c| {
            apply_to_config(
                c,
                &Mutation::SetTimeouts {
                    timeouts: *timeouts,
                },
            )
        })
    }

    fn apply(&mut self, ops: &[Mutation]) -> Result<(), ApiError> {
        self.change(|config| {
            for (i, m) in ops.iter().enumerate() {
                apply_to_config(config, m).map_err(|e| e.at(i))?;
            }
            Ok(())
        })
    }

    fn list_services(&self) -> Result<Vec<ServiceEntry>, ApiError> {
        let r = self.readings();
        Ok(self
            .config
            .services()
            .iter()
            .map(|s| Self::entry(s, &r))
            .collect())
    }

    fn get_service(&self, service: &ServiceKey) -> Result<ServiceEntry, ApiError> {
        let svc = self
            .config
            .service(service)
            .ok_or_else(ApiError::no_such_service)?;
        Ok(Self::entry(svc, &self.readings()))
    }

    fn list_connections(&self) -> Result<Vec<ConnEntry>, ApiError> {
        self.engine.connections().map_err(data_plane_error)
    }

    fn get_timeouts(&self) -> Result<Timeouts, ApiError> {
        Ok(self.config.timeouts())
    }

    fn info(&self) -> Result<Info, ApiError> {
        Ok(Info {
            version_code: rvs_api::IPVS_VERSION_CODE,
            conn_tab_size: rvs_api::CONN_TAB_SIZE,
            connections: self.readings().connections,
        })
    }

    fn counters(&self) -> Result<DataplaneCounters, ApiError> {
        self.engine.counters().map_err(data_plane_error)
    }
}

/// A data plane failure (a worker that does not answer, rvsd stopping) as an answer.
fn data_plane_error(e: anyhow::Error) -> ApiError {
    ApiError::new(
        ErrorKind::Internal,
        errno::EIO,
        format!("data plane: {e:#}"),
    )
}

#[cfg(test)]
#[path = "backend_tests.rs"]
mod tests;
