//! Thin gRPC service implementations of the agent.

pub mod local;
