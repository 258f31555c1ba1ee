//! A replica owned by an actor, gossiping over actor messages.
use ddata::{Crdt, CrdtType, Op};
pub use ddata_actor_example_support::ReplicaArgs;
use ddata_actor_example_support::ReplicaNode;
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

/// The node the actor owns; peers and subscribers are ractor actors.
pub type ReplicaState = ReplicaNode<ActorRef<ReplicaMsg>, ActorRef<KeyChanged>>;

pub struct ReplicaActor;

/// The I/O pump, ractor's part: gossip and notes are cast (an actor that
/// is gone loses its message; gossip repairs it).
fn pump(state: &ReplicaState) {
    state.pump(
        |peer, bytes| {
            let _ = peer.cast(ReplicaMsg::Gossip {
                from: state.node_id.clone(),
                bytes,
            });
        },
        |to, key| {
            let _ = to.cast(KeyChanged {
                node: state.node_id.clone(),
                key: key.to_vec(),
            });
        },
    );
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
        let tick_every = args.tick_every;
        let state = ReplicaState::open(args)?;
        myself.send_interval(tick_every, || ReplicaMsg::Tick);
        Ok(state)
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
        pump(state);
        Ok(())
    }
}
