//! A replica owned by an actor, gossiping over actor messages.
use std::collections::HashMap;

use ddata::{Crdt, CrdtType, Op, Replica, System, SystemEvent};
pub use ddata_actor_example_support::ReplicaArgs;
use ddata_actor_example_support::{open_node, subscribed};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

/// Sent to subscribers when a key they watch changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChanged {
    pub node: String,
    pub key: Vec<u8>,
}

pub enum ReplicaMsg {
    /// Apply `op` to `key` (created as `ty` when missing).
    Update {
        key: Vec<u8>,
        ty: CrdtType,
        op: Op,
        reply: RpcReplyPort<ddata::Result<()>>,
    },
    /// A copy of the value at `key`.
    Get {
        key: Vec<u8>,
        reply: RpcReplyPort<ddata::Result<Option<Crdt>>>,
    },
    /// Send `KeyChanged` to `to` whenever `key` (or, with prefix, any key
    /// starting with it) changes.
    Subscribe {
        key: Vec<u8>,
        prefix: bool,
        to: ActorRef<KeyChanged>,
    },
    /// Introduce the actor serving node `node_id`.
    Peer {
        node_id: String,
        actor: ActorRef<ReplicaMsg>,
    },
    /// Engine bytes from node `from`, carried by ractor.
    Gossip { from: String, bytes: Vec<u8> },
    /// Let time pass (sent by this actor's own timer).
    Tick,
}

pub struct ReplicaState {
    node_id: String,
    system: System,
    replica: Replica,
    peers: HashMap<String, ActorRef<ReplicaMsg>>,
    subscribers: Vec<(Vec<u8>, bool, ActorRef<KeyChanged>)>,
}

pub struct ReplicaActor;

impl ReplicaState {
    /// The I/O pump: route what the engine wants sent, deliver events.
    fn pump(&mut self) {
        while let Ok(Some((to, bytes))) = self.system.next_outgoing() {
            if let Some(peer) = self.peers.get(&to) {
                // A peer that is gone loses the message; gossip repairs it.
                let _ = peer.cast(ReplicaMsg::Gossip {
                    from: self.node_id.clone(),
                    bytes,
                });
            }
        }
        while let Ok(Some(ev)) = self.system.next_event() {
            if let SystemEvent::Changed { key } = ev {
                for (k, prefix, to) in &self.subscribers {
                    if subscribed(&key, k, *prefix) {
                        let _ = to.cast(KeyChanged {
                            node: self.node_id.clone(),
                            key: key.clone(),
                        });
                    }
                }
            }
        }
    }
}

impl Actor for ReplicaActor {
    type Msg = ReplicaMsg;
    type State = ReplicaState;
    type Arguments = ReplicaArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ReplicaMsg>,
        args: ReplicaArgs,
    ) -> Result<ReplicaState, ActorProcessingErr> {
        let (system, replica) = open_node(&args.node_id, args.seeds)?;
        myself.send_interval(args.tick_every, || ReplicaMsg::Tick);
        Ok(ReplicaState {
            node_id: args.node_id,
            system,
            replica,
            peers: HashMap::new(),
            subscribers: Vec::new(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<ReplicaMsg>,
        msg: ReplicaMsg,
        state: &mut ReplicaState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ReplicaMsg::Update { key, ty, op, reply } => {
                let _ = reply.send(state.replica.update(&key, ty, &op));
            }
            ReplicaMsg::Get { key, reply } => {
                let _ = reply.send(state.replica.get(&key));
            }
            ReplicaMsg::Subscribe { key, prefix, to } => {
                state.replica.subscribe(&key, prefix)?;
                state.subscribers.push((key, prefix, to));
            }
            ReplicaMsg::Peer { node_id, actor } => {
                state.peers.insert(node_id, actor);
            }
            ReplicaMsg::Gossip { from, bytes } => {
                // Bad bytes from a peer are rejected by the engine and
                // change nothing; the actor keeps running.
                let _ = state.system.deliver(crate::now_ms(), &from, &bytes);
            }
            ReplicaMsg::Tick => state.system.tick(crate::now_ms())?,
        }
        state.pump();
        Ok(())
    }
}
