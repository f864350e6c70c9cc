//! The PostgreSQL backend's error: a failed query, an unreachable database, a refused write.
//! The store kit's `kv::KvError` takes it over one `From` (same three variants).

/// What went wrong talking to PostgreSQL. Messages never carry the connection password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PgError {
    /// A statement failed (bad SQL, a constraint other than uniqueness, a refused migration).
    #[error("database: {0}")]
    Database(String),
    /// The database could not be reached (refused, timed out, connection lost): the caller
    /// answers UNAVAILABLE and may retry; the next call reconnects.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused a write.
    #[error("conflict: {0}")]
    Conflict(String),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        if let Some(db) = e.as_db_error() {
            let text = format!("{}: {}", db.code().code(), db.message());
            let code = db.code();
            return if *code == SqlState::UNIQUE_VIOLATION {
                PgError::Conflict(text)
            } else if *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::TOO_MANY_CONNECTIONS
                // The statement timeout (a wait for the unit lock included): overloaded, retry.
                || *code == SqlState::QUERY_CANCELED
            {
                PgError::Unavailable(text)
            } else {
                PgError::Database(text)
            };
        }
        // No server answer: closed connection, I/O, TLS, timeout, authentication transport.
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        // tokio-postgres's own text hides the cause ("error performing TLS handshake").
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        if e.is_closed() || io {
            PgError::Unavailable(text)
        } else {
            PgError::Database(text)
        }
    }
}
