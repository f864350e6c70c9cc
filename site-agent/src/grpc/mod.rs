//! Thin gRPC service implementations of the agent.

pub mod local;
pub mod response;
pub mod soc;
pub mod soc_convert;
