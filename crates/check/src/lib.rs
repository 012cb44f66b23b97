//! Real-server health checkers as keepalived runs them: TCP, HTTP(S), script, DNS, UDP, ping.
