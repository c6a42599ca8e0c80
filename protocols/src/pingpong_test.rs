//! PingPong's service handlers: a ping is answered with a pong to its
//! sender; a pong is counted and the next ping goes to another server.

use crate::cluster::Service;
use crate::pingpong::{PingPongMessage, PingPongService};
use crate::testkit::{Effect, ServerHarness};
use sim_core::NodeId;

fn service() -> PingPongService {
    PingPongService {
        pongs: 0,
        panic_probability: 0.0,
        peer_from_process_state: false,
    }
}

#[test]
fn a_ping_is_answered_with_a_pong_to_its_sender_only() {
    let mut server = ServerHarness::new(NodeId(1), 4, 1);
    let mut pingpong = service();
    let handled = server.call(|ctx| pingpong.on_message(ctx, NodeId(3), PingPongMessage::Ping));
    assert_eq!(
        handled.effects,
        [Effect::Send {
            to: NodeId(3),
            message: PingPongMessage::Pong
        }]
    );
}

#[test]
fn a_pong_is_counted_and_the_next_ping_goes_to_another_server() {
    let mut server = ServerHarness::new(NodeId(1), 4, 1);
    let mut pingpong = service();
    for pong in 1..=20 {
        let handled = server.call(|ctx| pingpong.on_message(ctx, NodeId(0), PingPongMessage::Pong));
        let sends = handled.sends();
        assert_eq!(sends.len(), 1, "{:?}", handled.effects);
        let (to, message) = sends[0];
        assert_eq!(message, &PingPongMessage::Ping);
        assert!(to != NodeId(1) && to.0 < 4, "pinged {to}");
        assert_eq!(pingpong.pongs, pong);
    }
}
