//! rust.counter.increment: calls/s of `Crdt::increment(1)` through the safe
//! crate. bench/rust.sh runs it with `--raw` (the rate alone), alternating
//! with the same loop in C, and prints the JSON line; `--baseline X` prints
//! it here instead (ratio = value / baseline).
use std::time::Instant;

use ddata::{Crdt, CrdtType};

fn rate(n: u64) -> f64 {
    let mut c = Crdt::new(CrdtType::GCounter).unwrap();
    let t0 = Instant::now();
    for _ in 0..n {
        c.increment(std::hint::black_box(1)).unwrap();
    }
    let r = n as f64 / t0.elapsed().as_secs_f64();
    assert_eq!(c.counter_value().unwrap(), n as i64);
    r
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: u64 = arg("--n").map_or(20_000_000, |s| s.parse().unwrap());
    let baseline: Option<f64> = arg("--baseline").map(|s| s.parse().unwrap());
    rate(n / 4); // warm up
    let value = (0..3).map(|_| rate(n)).fold(0.0, f64::max);
    if args.iter().any(|a| a == "--raw") {
        println!("{value:.0}");
        return;
    }
    match baseline {
        Some(b) => println!(
            "{{\"name\":\"rust.counter.increment\",\"unit\":\"calls/s\",\"value\":{:.0},\"baseline\":{:.0},\"ratio\":{:.3}}}",
            value,
            b,
            value / b
        ),
        None => println!("{{\"name\":\"rust.counter.increment\",\"unit\":\"calls/s\",\"value\":{value:.0}}}"),
    }
}
