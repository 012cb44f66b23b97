//! Counters merged per service, per destination and per drop reason; the 2-second rate estimator.
