use std::sync::Arc;
use std::time::Duration;

use ddata::{CrdtType, Journal, NewEvent, Op, Status, StoreOptions};
use ddata_ractor_example::persistent::{CounterActor, CounterArgs, CounterMsg};
use ddata_ractor_example::replica_actor::{KeyChanged, ReplicaActor, ReplicaArgs, ReplicaMsg};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::mpsc;

/// Forwards KeyChanged notifications to a channel the test reads.
struct Listener;
impl Actor for Listener {
    type Msg = KeyChanged;
    type State = mpsc::UnboundedSender<KeyChanged>;
    type Arguments = mpsc::UnboundedSender<KeyChanged>;
    async fn pre_start(
        &self,
        _: ActorRef<KeyChanged>,
        tx: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(tx)
    }
    async fn handle(
        &self,
        _: ActorRef<KeyChanged>,
        msg: KeyChanged,
        tx: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let _ = tx.send(msg);
        Ok(())
    }
}

async fn node(id: &str) -> ActorRef<ReplicaMsg> {
    let args = ReplicaArgs {
        node_id: id.into(),
        seeds: vec!["a".into()],
        tick_every: Duration::from_millis(20),
    };
    Actor::spawn(None, ReplicaActor, args).await.unwrap().0
}

/// Calls the replica actor and unwraps all three layers: the message was
/// delivered, the actor replied, the engine succeeded.
async fn ask<T: Send + 'static>(
    r: &ActorRef<ReplicaMsg>,
    msg: impl FnOnce(RpcReplyPort<ddata::Result<T>>) -> ReplicaMsg,
) -> T {
    r.call(msg, None).await.unwrap().unwrap().unwrap()
}

async fn counter(r: &ActorRef<ReplicaMsg>, key: &str) -> Option<i64> {
    let v = ask(r, |reply| ReplicaMsg::Get {
        key: key.into(),
        reply,
    })
    .await;
    v.map(|c| c.counter_value().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_actors_gossip_over_ractor_and_notify_subscribers() {
    let (a, b) = (node("a").await, node("b").await);
    a.cast(ReplicaMsg::Peer {
        node_id: "b".into(),
        actor: b.clone(),
    })
    .unwrap();
    b.cast(ReplicaMsg::Peer {
        node_id: "a".into(),
        actor: a.clone(),
    })
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (listener, _) = Actor::spawn(None, Listener, tx).await.unwrap();
    b.cast(ReplicaMsg::Subscribe {
        key: b"hits".to_vec(),
        prefix: false,
        to: listener.clone(),
    })
    .unwrap();

    // Let the two nodes see each other, then write on a and read on b.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let op = Op::increment(5);
    ask(&a, |reply| ReplicaMsg::Update {
        key: b"hits".to_vec(),
        ty: CrdtType::GCounter,
        op,
        reply,
    })
    .await;
    let mut seen = None;
    for _ in 0..100 {
        seen = counter(&b, "hits").await;
        if seen == Some(5) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, Some(5), "the update never reached node b");
    let note = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        note,
        KeyChanged {
            node: "b".into(),
            key: b"hits".to_vec()
        }
    );

    // Garbage from a "peer" is rejected by the engine; the actor lives on.
    b.cast(ReplicaMsg::Gossip {
        from: "a".into(),
        bytes: vec![0xde, 0xad],
    })
    .unwrap();
    assert_eq!(counter(&b, "hits").await, Some(5));
    for r in [a, b] {
        r.stop(None);
    }
    listener.stop(None);
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ddata-ractor-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn spawn_counter(journal: &Arc<Journal>) -> ActorRef<CounterMsg> {
    let args = CounterArgs {
        journal: journal.clone(),
        pid: "counter-1".into(),
        snapshot_every: 4,
    };
    Actor::spawn(None, CounterActor, args).await.unwrap().0
}

async fn add(c: &ActorRef<CounterMsg>, n: i64) -> ddata::Result<i64> {
    c.call(|reply| CounterMsg::Add(n, reply), None)
        .await
        .unwrap()
        .unwrap()
}

async fn get(c: &ActorRef<CounterMsg>) -> (i64, u64) {
    c.call(CounterMsg::Get, None).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_actor_recovers_persists_and_rolls_back() {
    let dir = tmp("persist");
    let journal = Arc::new(Journal::open(&StoreOptions::sqlite(dir.join("j.db"))).unwrap());

    let c = spawn_counter(&journal).await;
    for i in 1..=10 {
        add(&c, i).await.unwrap();
    }
    assert_eq!(get(&c).await, (55, 10));
    // A stop writes a snapshot at seq 10 (post_stop).
    c.stop_and_wait(None, None).await.unwrap();
    let snap = journal
        .load_snapshot("counter-1", &Default::default())
        .unwrap()
        .unwrap();
    assert_eq!((snap.seq, snap.state.as_slice()), (10, &b"55"[..]));

    // Another writer sneaks event 11 in: the restarted actor recovers it.
    journal.append("counter-1", 10, &[NewEvent::new("100")]).unwrap();
    let c = spawn_counter(&journal).await;
    assert_eq!(get(&c).await, (155, 11));

    // And again behind its back: the actor's next write conflicts and its
    // state stays as it was (rollback), nothing is appended for it.
    journal.append("counter-1", 11, &[NewEvent::new("1000")]).unwrap();
    let err = add(&c, 1).await.unwrap_err();
    assert_eq!(err.status(), Status::Conflict);
    assert_eq!(get(&c).await, (155, 11));
    assert_eq!(journal.highest_seq("counter-1").unwrap(), 12);
    c.stop_and_wait(None, None).await.unwrap();

    // A fresh start sees everything, from the snapshot plus the tail.
    let c = spawn_counter(&journal).await;
    assert_eq!(get(&c).await, (1155, 12));
    c.stop_and_wait(None, None).await.unwrap();
    drop(journal);
    std::fs::remove_dir_all(dir).unwrap();
}
