//! `rvsd --metrics ADDR:PORT`: the counters for Prometheus. A scrape reads what
//! `list_services` and `counters` answer on the control socket (the same code) and renders
//! it in the text exposition format ([`exposition`]), served by a tiny HTTP responder
//! ([`http`]).

pub mod exposition;
pub mod http;

use rvs_api::{ApiError, Backend};

pub use http::serve;

/// One scrape: services, destinations and the data plane's counters, rendered.
pub fn scrape(backend: &dyn Backend) -> Result<String, ApiError> {
    let services = backend.list_services()?;
    let counters = backend.counters()?;
    Ok(exposition::render(&services, &counters))
}
