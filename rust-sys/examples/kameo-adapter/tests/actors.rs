use std::sync::Arc;
use std::time::Duration;

use ddata::{CrdtType, Journal, NewEvent, Op, PersistStrategy, Status, StoreOptions};
use ddata_kameo_example::persistent::{Add, CounterActor, CounterArgs, GetTotal, Recovered};
use ddata_kameo_example::replica_actor::{
    Dropped, Get, Gossip, KeyChanged, Peer, ReplicaActor, ReplicaArgs, Subscribe, Update,
};
use kameo::prelude::*;
use tokio::sync::mpsc;

/// Forwards KeyChanged notifications to a channel the test reads.
struct Listener(mpsc::UnboundedSender<KeyChanged>);

impl Actor for Listener {
    type Args = Self;
    type Error = std::convert::Infallible;
    async fn on_start(me: Self, _: ActorRef<Self>) -> Result<Self, Self::Error> {
        Ok(me)
    }
}

impl Message<KeyChanged> for Listener {
    type Reply = ();
    async fn handle(&mut self, m: KeyChanged, _: &mut Context<Self, ()>) {
        let _ = self.0.send(m);
    }
}

fn node(id: &str) -> ActorRef<ReplicaActor> {
    ReplicaActor::spawn(ReplicaArgs {
        node_id: id.into(),
        seeds: vec!["a".into()],
        tick_every: Duration::from_millis(20),
    })
}

async fn counter(r: &ActorRef<ReplicaActor>, key: &str) -> Option<u64> {
    let v = r.ask(Get { key: key.into() }).await.unwrap();
    v.map(|c| c.counter_value().unwrap() as u64)
}

async fn wait_for(r: &ActorRef<ReplicaActor>, key: &str, want: u64) -> Option<u64> {
    let mut seen = None;
    for _ in 0..150 {
        seen = counter(r, key).await;
        if seen == Some(want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

async fn introduce(nodes: &[(&str, &ActorRef<ReplicaActor>)]) {
    for (_, me) in nodes {
        for (id, other) in nodes {
            me.tell(Peer {
                node_id: id.to_string(),
                actor: (*other).clone(),
            })
            .await
            .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_actors_gossip_over_kameo_and_notify_subscribers() {
    let (a, b, c) = (node("a"), node("b"), node("c"));
    for r in [&a, &b, &c] {
        r.wait_for_startup().await;
    }
    introduce(&[("a", &a), ("b", &b), ("c", &c)]).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let listener = Listener::spawn(Listener(tx));
    b.ask(Subscribe {
        key: b"hits".to_vec(),
        prefix: false,
        to: listener.clone().recipient(),
    })
    .await
    .unwrap();

    tokio::time::sleep(Duration::from_millis(300)).await;
    a.ask(Update {
        key: b"hits".to_vec(),
        ty: CrdtType::GCounter,
        op: Op::increment(5),
    })
    .await
    .unwrap();
    assert_eq!(
        wait_for(&b, "hits", 5).await,
        Some(5),
        "the update never reached node b"
    );
    assert_eq!(
        wait_for(&c, "hits", 5).await,
        Some(5),
        "the update never reached node c"
    );
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

    // Garbage from a "peer" is refused by the engine; the actor lives on.
    b.tell(Gossip {
        from: "a".into(),
        bytes: vec![0xde, 0xad],
    })
    .await
    .unwrap();
    assert_eq!(counter(&b, "hits").await, Some(5));

    // A node killed mid-run comes back empty and catches up by gossip.
    c.kill();
    let _ = c.wait_for_shutdown_result().await;
    a.ask(Update {
        key: b"hits".to_vec(),
        ty: CrdtType::GCounter,
        op: Op::increment(1),
    })
    .await
    .unwrap();
    let c = node("c");
    c.wait_for_startup().await;
    introduce(&[("a", &a), ("b", &b), ("c", &c)]).await;
    assert_eq!(
        wait_for(&c, "hits", 6).await,
        Some(6),
        "the restarted node never caught up"
    );
    let _ = a.ask(Dropped).await.unwrap(); // counted, whatever the scheduling
    for r in [a, b, c] {
        r.stop_gracefully().await.unwrap();
        let _ = r.wait_for_shutdown_result().await;
    }
    listener.kill();
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ddata-kameo-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn spawn_counter(journal: &Arc<Journal>, strategy: PersistStrategy) -> ActorRef<CounterActor> {
    CounterActor::spawn(CounterArgs {
        journal: journal.clone(),
        pid: "counter-1".into(),
        strategy,
    })
}

const FULL_EVERY_4: PersistStrategy = PersistStrategy::Full {
    snapshot_every: 4,
    compact: false,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_actor_recovers_snapshots_every_n_and_rolls_back() {
    let dir = tmp("persist");
    let journal = Arc::new(Journal::open(&StoreOptions::sqlite(dir.join("j.db"))).unwrap());

    let c = spawn_counter(&journal, FULL_EVERY_4);
    for i in 1..=10 {
        c.ask(Add(i)).await.unwrap();
    }
    assert_eq!(c.ask(GetTotal).await.unwrap(), (55, 10));
    // Killed: no last snapshot. The next start loads the periodic snapshot
    // at seq 8 and replays events 9 and 10.
    c.kill();
    let _ = c.wait_for_shutdown_result().await;
    let c = spawn_counter(&journal, FULL_EVERY_4);
    assert_eq!(c.ask(GetTotal).await.unwrap(), (55, 10));
    assert_eq!(c.ask(Recovered).await.unwrap(), (Some(8), 2));

    // Another writer sneaks an event in: the actor's next write conflicts
    // and its state stays as it was (rollback); nothing is appended for it.
    journal.append("counter-1", 10, &[NewEvent::new("100")]).unwrap();
    match c.ask(Add(1)).await {
        Err(SendError::HandlerError(e)) => assert_eq!(e.status(), Status::Conflict),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(c.ask(GetTotal).await.unwrap(), (55, 10));
    assert_eq!(journal.highest_seq("counter-1").unwrap(), 11);

    // A graceful stop saves a snapshot; the next start replays nothing.
    c.stop_gracefully().await.unwrap();
    // wait_for_shutdown returns once the mailbox closes; the _result form
    // also waits for on_stop (the snapshot).
    let _ = c.wait_for_shutdown_result().await;
    let c = spawn_counter(&journal, PersistStrategy::Light);
    assert_eq!(c.ask(GetTotal).await.unwrap(), (155, 11));
    assert_eq!(c.ask(Recovered).await.unwrap(), (Some(10), 1));
    // Light: a snapshot with every event.
    c.ask(Add(5)).await.unwrap();
    c.kill();
    let _ = c.wait_for_shutdown_result().await;
    let c = spawn_counter(&journal, PersistStrategy::Light);
    assert_eq!(c.ask(Recovered).await.unwrap(), (Some(12), 0));
    assert_eq!(c.ask(GetTotal).await.unwrap(), (160, 12));
    c.kill();
    drop(journal);
    std::fs::remove_dir_all(dir).unwrap();
}
