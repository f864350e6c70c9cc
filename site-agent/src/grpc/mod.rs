//! Thin gRPC service implementations of the agent.

pub mod local;
pub mod soc;
pub mod soc_convert;
