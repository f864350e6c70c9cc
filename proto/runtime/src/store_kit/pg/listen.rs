//! LISTEN/NOTIFY: [`PgStore::subscribe`] keeps one listening session per subscription on the
//! store's runtime and forwards its notifications. The session is reopened with backoff when
//! lost; notifications sent meanwhile are gone, so [`PgEvent::Reconnected`] tells the
//! subscriber to rescan what it follows. The session ends when every receiver is dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, oneshot};
use tokio_postgres::AsyncMessage;

use super::pool::Connector;
use super::{PgError, PgStore};
use crate::backoff::Backoff;

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgEvent {
    /// A committed `pg_notify` on one of the channels.
    Notification { channel: String, payload: String },
    /// The listening session was lost and is back: notifications may have been missed.
    Reconnected,
}

/// Events buffered per subscriber before the slowest one starts losing them (it then sees
/// `RecvError::Lagged` and rescans, as after `Reconnected`).
const CAPACITY: usize = 1024;

impl PgStore {
    /// Listens on `channels`. Waits (up to the connect timeout) until the listening session is
    /// in place, so a notification committed after this returns is delivered; if the database
    /// cannot be reached yet, the session keeps trying in the background and announces itself
    /// with [`PgEvent::Reconnected`].
    pub fn subscribe(&self, channels: &[&str]) -> broadcast::Receiver<PgEvent> {
        let (tx, rx) = broadcast::channel(CAPACITY);
        let (ready_tx, ready_rx) = oneshot::channel();
        let channels: Vec<String> = channels.iter().map(|c| (*c).to_owned()).collect();
        let connector = self.connector();
        let timeout = connector.connect_timeout();
        self.handle()
            .spawn(listen(connector, channels, tx, Some(ready_tx)));
        let _ = self.run(async move {
            let _ = tokio::time::timeout(timeout, ready_rx).await;
            Ok(())
        });
        rx
    }
}

/// `"name"`: any channel name as one quoted identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn listen(
    connector: Arc<Connector>,
    channels: Vec<String>,
    tx: broadcast::Sender<PgEvent>,
    mut ready: Option<oneshot::Sender<()>>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let mut sessions = 0u64;
    let mut failed = false;
    while tx.receiver_count() > 0 {
        match session(
            &connector,
            &channels,
            &tx,
            &mut ready,
            sessions > 0 || failed,
        )
        .await
        {
            Ok(()) => {
                sessions += 1;
                backoff.reset();
            }
            Err(e) => {
                failed = true;
                tracing::debug!(error = %e, "PostgreSQL listener could not connect");
            }
        }
        if tx.receiver_count() == 0 {
            break;
        }
        tokio::time::sleep(backoff.next_delay(rand::random::<f64>())).await;
    }
}

/// One listening session: connect, LISTEN, forward until the session ends or nobody listens.
async fn session(
    connector: &Connector,
    channels: &[String],
    tx: &broadcast::Sender<PgEvent>,
    ready: &mut Option<oneshot::Sender<()>>,
    announce: bool,
) -> Result<(), PgError> {
    let (client, mut connection) = connector.open().await?;
    let forward = tx.clone();
    let mut driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = forward.send(PgEvent::Notification {
                        channel: n.channel().to_owned(),
                        payload: n.payload().to_owned(),
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "PostgreSQL listening session ended");
                    break;
                }
            }
        }
    });
    let sql: String = channels
        .iter()
        .map(|c| format!("LISTEN {};", quote_ident(c)))
        .collect();
    if let Err(e) = client.batch_execute(&sql).await {
        driver.abort();
        return Err(e.into());
    }
    if announce {
        let _ = tx.send(PgEvent::Reconnected);
    }
    if let Some(ready) = ready.take() {
        let _ = ready.send(());
    }
    let mut idle = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = &mut driver => return Ok(()),
            _ = idle.tick() => {
                if tx.receiver_count() == 0 {
                    driver.abort();
                    return Ok(());
                }
            }
        }
    }
}
