//! Real-server health checkers as keepalived runs them: TCP, HTTP(S), script, DNS, UDP, ping.
pub mod checker;
pub mod engine;
pub mod pool;
