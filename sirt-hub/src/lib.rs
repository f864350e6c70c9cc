//! The SIRT hub: accepts escalation streams from every site over mutual TLS, stores each
//! escalation exactly once, correlates incidents across sites and answers operator queries.
//!
//! Layering: `grpc` (thin service impls) → `ingest` (the single writer, group commit) →
//! `store` (the only sled user); `correlate` and `incident` are pure domain logic.

pub mod access;
pub mod api;
pub mod app;
pub mod cli;
pub mod comms;
pub mod config;
pub mod correlate;
pub mod deadlines;
pub mod delivery;
pub mod demo;
pub mod enrolment;
pub mod error;
pub mod events;
pub mod grpc;
pub mod hunt_library;
pub mod hunt_schedule;
pub mod incident;
pub mod ingest;
pub mod intel;
pub mod lifecycle;
pub mod live;
pub mod observable;
pub mod pki;
pub mod pruning;
pub mod refusals;
pub mod regulatory;
pub mod replicas;
pub mod report;
pub mod response;
pub mod service;
pub mod session;
pub mod store;
pub mod view;
pub mod web;
pub mod webhooks;
