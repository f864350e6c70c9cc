//! Thin gRPC service implementations of the agent: decode, call the service layer, encode.
//! Every error becomes a status in one place, `From<AgentError> for Status` (`crate::error`).

pub mod casework;
pub mod local;
pub mod response;
pub mod runbooks;
pub mod soc;
pub mod soc_convert;
pub mod tokens;
