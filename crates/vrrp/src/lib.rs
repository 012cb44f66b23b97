//! Sans-I/O VRRP v2/v3 state machine, packet codec and raw-socket driver.
