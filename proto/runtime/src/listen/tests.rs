//! Admission arithmetic: caps per pool and per address, promotion, release, the budget.

use super::*;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, last], port))
}

fn limits() -> ListenLimits {
    ListenLimits {
        max_connections: 3,
        max_connections_per_ip: 2,
        max_unauthenticated: 4,
        max_unauthenticated_per_ip: 2,
        ..ListenLimits::default()
    }
}

#[tokio::test]
async fn unauthenticated_connections_have_their_own_caps_per_address_and_in_all() {
    let gate = Gate::new(
        "t",
        limits(),
        DescriptorBudget::fixed(100),
        true,
        &CancellationToken::new(),
    );
    let a1 = gate.admit(addr(2, 1)).expect("first from .2");
    let _a2 = gate.admit(addr(2, 2)).expect("second from .2");
    assert_eq!(
        gate.admit(addr(2, 3)).err(),
        Some(Refused::UnauthenticatedPeerFull)
    );
    let _b1 = gate.admit(addr(3, 1)).expect("first from .3");
    let _b2 = gate.admit(addr(3, 2)).expect("second from .3");
    assert_eq!(
        gate.admit(addr(4, 1)).err(),
        Some(Refused::UnauthenticatedFull)
    );
    drop(a1);
    gate.admit(addr(4, 1)).expect("a freed slot is reused");
}

#[tokio::test]
async fn a_certificate_moves_the_connection_to_the_established_pool() {
    let gate = Gate::new(
        "t",
        limits(),
        DescriptorBudget::fixed(100),
        true,
        &CancellationToken::new(),
    );
    let mut established = Vec::new();
    for port in 0..2 {
        let pending = gate.admit(addr(2, port)).expect("admitted");
        established.push(pending.established(addr(2, port), true).expect("room"));
    }
    // Their unauthenticated slots were given back.
    let _p1 = gate
        .admit(addr(2, 10))
        .expect("unauthenticated slot free again");
    let third = gate.admit(addr(2, 11)).expect("admitted");
    assert_eq!(
        third.established(addr(2, 11), true).err(),
        Some(Refused::PeerFull),
        "per-address cap of the established pool"
    );
    let other = gate.admit(addr(3, 1)).expect("admitted");
    established.push(other.established(addr(3, 1), true).expect("room"));
    let fourth = gate.admit(addr(4, 1)).expect("admitted");
    assert_eq!(
        fourth.established(addr(4, 1), true).err(),
        Some(Refused::ListenerFull)
    );
    // Without a certificate: stays unauthenticated (short-lived), never takes an established slot.
    let anonymous = gate.admit(addr(5, 1)).expect("admitted");
    let guard = anonymous
        .established(addr(5, 1), false)
        .expect("kept, briefly");
    assert!(!guard.is_established());
}

#[tokio::test]
async fn the_descriptor_budget_bounds_all_listeners_together() {
    let budget = DescriptorBudget::fixed(8);
    let stop = CancellationToken::new();
    let grpc = Gate::new("grpc", ListenLimits::default(), budget.clone(), true, &stop);
    let web = Gate::new("web", ListenLimits::default(), budget.clone(), false, &stop);
    let held: Vec<_> = (1..=8)
        .map(|n| {
            grpc.admit(addr(n, 1))
                .expect("within budget")
                .established(addr(n, 1), true)
                .expect("room")
        })
        .collect();
    assert_eq!(web.admit(addr(9, 1)).err(), Some(Refused::Descriptors));
    drop(held);
    web.admit(addr(9, 1)).expect("budget given back");
}

#[test]
fn the_budget_keeps_a_reserve_for_the_store() {
    assert_eq!(DescriptorBudget::sized(Some(512)).total(), 384);
    assert_eq!(DescriptorBudget::sized(Some(1024)).total(), 768);
    assert_eq!(
        DescriptorBudget::sized(Some(1 << 20)).total(),
        (1 << 20) - 1024
    );
    assert_eq!(DescriptorBudget::sized(Some(100)).total(), 36);
}

#[tokio::test(start_paused = true)]
async fn idle_and_unauthenticated_connections_are_closed_by_their_timers() {
    let limits = ListenLimits {
        idle_timeout: Duration::from_secs(60),
        unauthenticated_lifetime: Duration::from_secs(5),
        ..ListenLimits::default()
    };
    let gate = Gate::new(
        "t",
        limits,
        DescriptorBudget::fixed(10),
        true,
        &CancellationToken::new(),
    );
    let mut anonymous = gate
        .admit(addr(2, 1))
        .expect("admitted")
        .established(addr(2, 1), false)
        .expect("kept");
    let mut site = gate
        .admit(addr(3, 1))
        .expect("admitted")
        .established(addr(3, 1), true)
        .expect("room");
    assert_eq!(expired(&mut anonymous).await, None);
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(
        expired(&mut anonymous).await,
        Some(std::io::ErrorKind::TimedOut)
    );
    assert_eq!(
        expired(&mut site).await,
        None,
        "a peer with a certificate is not bound by the short life"
    );
    tokio::time::advance(Duration::from_secs(40)).await;
    site.note_read();
    tokio::time::advance(Duration::from_secs(40)).await;
    assert_eq!(
        expired(&mut site).await,
        None,
        "a read restarts the idle timer"
    );
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(expired(&mut site).await, Some(std::io::ErrorKind::TimedOut));
}

#[tokio::test]
async fn stopping_closes_unauthenticated_connections_at_once_and_the_rest_on_close_all() {
    let stop = CancellationToken::new();
    let gate = Gate::new(
        "t",
        ListenLimits::default(),
        DescriptorBudget::fixed(10),
        true,
        &stop,
    );
    let mut anonymous = gate
        .admit(addr(2, 1))
        .expect("admitted")
        .established(addr(2, 1), false)
        .expect("kept");
    let mut site = gate
        .admit(addr(3, 1))
        .expect("admitted")
        .established(addr(3, 1), true)
        .expect("room");
    stop.cancel();
    crate::listen::tests::settle().await;
    assert_eq!(
        expired(&mut anonymous).await,
        Some(std::io::ErrorKind::ConnectionAborted)
    );
    assert_eq!(
        expired(&mut site).await,
        None,
        "a site finishes its acknowledgements"
    );
    gate.close_all();
    assert_eq!(
        expired(&mut site).await,
        Some(std::io::ErrorKind::ConnectionAborted)
    );
}

/// Whether the guard says its connection must close now (and why).
async fn expired(guard: &mut ConnGuard) -> Option<std::io::ErrorKind> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(guard.poll_expired(cx).map(|e| e.kind())))
        .await
}

/// Lets the task linking the stop token to the gate run.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}
