//! Telling a full disk apart from other storage failures, so that both stores can refuse with
//! a message that names the cause and the fix instead of a generic storage error.
//!
//! sled reports an I/O failure as `sled::Error::Io`; after one, a sled database refuses every
//! later write until it is reopened (it keeps the first error), so freeing space alone does not
//! bring a running store back: the process must restart.

use std::io::ErrorKind;

/// No space left on the device, the disk quota used up, or a file-size limit reached.
pub fn io(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge
    )
}

/// [`io`] for an error sled returned.
pub fn sled(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(e) if io(e))
}

/// The reason sled gives, without its debug formatting of I/O errors
/// (`IO error: Os { code: 28, kind: StorageFull, .. }`).
pub fn sled_reason(error: &sled::Error) -> String {
    match error {
        sled::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_space_is_recognised_through_sled_and_named_plainly() {
        let enospc = std::io::Error::from_raw_os_error(28);
        assert!(io(&enospc));
        let wrapped = sled::Error::Io(std::io::Error::new(ErrorKind::StorageFull, "full"));
        assert!(sled(&wrapped));
        assert!(!sled(&sled::Error::Io(std::io::Error::from(
            ErrorKind::PermissionDenied
        ))));
        assert_eq!(
            sled_reason(&sled::Error::Io(enospc)),
            "No space left on device (os error 28)"
        );
    }
}
