//! A replica owned by a kameo actor, gossiping over kameo messages.
use ddata::{Crdt, CrdtType, Op};
pub use ddata_actor_example_support::ReplicaArgs;
use ddata_actor_example_support::ReplicaNode;
use kameo::prelude::*;

/// Sent to subscribers when a key they watch changes on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChanged {
    pub node: String,
    pub key: Vec<u8>,
}

/// Apply `op` to `key` (created as `ty` when missing).
pub struct Update {
    pub key: Vec<u8>,
    pub ty: CrdtType,
    pub op: Op,
}

/// A copy of the value at `key`.
pub struct Get {
    pub key: Vec<u8>,
}

/// Tell `to` a [`KeyChanged`] whenever `key` (or, with `prefix`, any key
/// starting with it) changes.
pub struct Subscribe {
    pub key: Vec<u8>,
    pub prefix: bool,
    pub to: Recipient<KeyChanged>,
}

/// Introduce the actor serving node `node_id`.
pub struct Peer {
    pub node_id: String,
    pub actor: ActorRef<ReplicaActor>,
}

/// Engine bytes from node `from`, carried by kameo.
pub struct Gossip {
    pub from: String,
    pub bytes: Vec<u8>,
}

/// Let time pass (sent by the actor's ticker task).
pub struct Tick;

pub struct ReplicaActor {
    /// The node; peers are replica actors, subscribers any KeyChanged recipient.
    node: ReplicaNode<ActorRef<ReplicaActor>, Recipient<KeyChanged>>,
    /// Gossip messages dropped because a peer's mailbox was full.
    pub dropped: u64,
}

impl ReplicaActor {
    /// The I/O pump, kameo's part. Gossip is told with try_send: a full
    /// (bounded) mailbox drops the message instead of blocking this
    /// handler on a peer that may itself be blocked on us; the
    /// replicator's anti-entropy repairs the loss.
    fn pump(&mut self) {
        let (node, dropped) = (&self.node, &mut self.dropped);
        node.pump(
            |peer, bytes| {
                let gossip = Gossip {
                    from: node.node_id.clone(),
                    bytes,
                };
                if peer.tell(gossip).try_send().is_err() {
                    *dropped += 1;
                }
            },
            |to, key| {
                let _ = to
                    .tell(KeyChanged {
                        node: node.node_id.clone(),
                        key: key.to_vec(),
                    })
                    .try_send();
            },
        );
    }
}

impl Actor for ReplicaActor {
    type Args = ReplicaArgs;
    type Error = ddata::Error;

    async fn on_start(args: ReplicaArgs, actor_ref: ActorRef<Self>) -> Result<Self, ddata::Error> {
        let every = args.tick_every;
        let node = ReplicaNode::open(args)?;
        // kameo has no send_interval: a task ticks through a weak reference
        // and ends with the actor.
        let weak = actor_ref.downgrade();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            loop {
                interval.tick().await;
                let Some(actor) = weak.upgrade() else { break };
                if let Err(SendError::ActorNotRunning(_)) = actor.tell(Tick).try_send() {
                    break;
                } // a full mailbox skips one tick
            }
        });
        Ok(ReplicaActor { node, dropped: 0 })
    }
}

impl Message<Update> for ReplicaActor {
    type Reply = ddata::Result<()>;
    async fn handle(&mut self, m: Update, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let r = self.node.replica.update(&m.key, m.ty, &m.op);
        self.pump();
        r
    }
}

impl Message<Get> for ReplicaActor {
    type Reply = ddata::Result<Option<Crdt>>;
    async fn handle(&mut self, m: Get, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.node.replica.get(&m.key)
    }
}

impl Message<Subscribe> for ReplicaActor {
    type Reply = ddata::Result<()>;
    async fn handle(&mut self, m: Subscribe, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.node.replica.subscribe(&m.key, m.prefix)?;
        self.node.subscribers.push((m.key, m.prefix, m.to));
        Ok(())
    }
}

impl Message<Peer> for ReplicaActor {
    type Reply = ();
    async fn handle(&mut self, m: Peer, _: &mut Context<Self, Self::Reply>) {
        self.node.peers.insert(m.node_id, m.actor);
        self.pump();
    }
}

impl Message<Gossip> for ReplicaActor {
    type Reply = ();
    async fn handle(&mut self, m: Gossip, _: &mut Context<Self, Self::Reply>) {
        // Bad bytes from a peer are refused by the engine and change
        // nothing; the actor keeps running.
        let _ = self.node.system.deliver(crate::now_ms(), &m.from, &m.bytes);
        self.pump();
    }
}

impl Message<Tick> for ReplicaActor {
    type Reply = ddata::Result<()>;
    async fn handle(&mut self, _: Tick, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let r = self.node.system.tick(crate::now_ms());
        self.pump();
        r
    }
}

/// How many gossip messages this actor dropped on full mailboxes.
pub struct Dropped;

impl Message<Dropped> for ReplicaActor {
    type Reply = u64;
    async fn handle(&mut self, _: Dropped, _: &mut Context<Self, Self::Reply>) -> u64 {
        self.dropped
    }
}
