#![cfg(feature = "tokio")]
use std::time::Duration;

use ddata::{CrdtType, EventStream, Op, Replica, ReplicaOptions, System, SystemEvent, SystemOptions};

#[test]
fn events_arrive_on_the_async_stream() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let sys = System::open(&SystemOptions::new("s").seeds(["s"])).unwrap();
        let now = 1_700_000_000_000u64;
        sys.tick(now).unwrap();
        let r = Replica::open(&sys, &ReplicaOptions::default()).unwrap();
        let mut stream = EventStream::new(&sys).unwrap();
        r.subscribe("k", false).unwrap();
        r.update("k", CrdtType::GCounter, &Op::increment(1)).unwrap();
        let ticker = {
            let sys = sys.clone();
            tokio::spawn(async move {
                for t in 1..20 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    sys.tick(now + t * 1000).unwrap();
                }
            })
        };
        let got = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.next().await.unwrap().unwrap() {
                    SystemEvent::Changed { key } => return key,
                    _ => continue,
                }
            }
        })
        .await
        .expect("no Changed event within 5 s");
        assert_eq!(got, b"k");
        ticker.await.unwrap();
    });
}
