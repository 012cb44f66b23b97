//! The rvsd data plane: XDP steering program, AF_XDP sockets, workers, netlink next hops.
