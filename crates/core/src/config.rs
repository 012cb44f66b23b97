//! The control-plane table of services and destinations, with IPVS semantics and errors.
