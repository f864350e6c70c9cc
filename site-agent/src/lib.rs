//! The site agent: the local SOC's gateway to the federation. It queues escalations in a
//! durable outbox and streams them to the SIRT hub, resending until the hub acknowledges.
//!
//! Layering: `grpc` (local API, thin) → `store` (the only sled user, outbox) ← `uplink`
//! (hub stream). `store::cap` is pure. `web` is the SOC console (HTTPS, sessions), another
//! adapter over `service` beside `grpc`.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod grpc;
pub mod response;
pub mod service;
pub mod soc;
pub mod store;
pub mod uplink;
pub mod web;
pub mod webhooks;
pub mod wire;
