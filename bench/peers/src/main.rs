//! The `crdts` crate doing the work bench/bench_crdt.c does, printing one
//! JSON line per measurement ({"name":..., "unit":..., "value":...}).
//! bench_crdt reads these lines and reports them as `baseline`.
use crdts::{CmRDT, CvRDT, GCounter, Orswot};
use std::time::Instant;

fn elem(i: u64) -> [u8; 16] {
    // same shape as the C bench: 16 bytes, distinct, spread out
    let mut e = [0u8; 16];
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    e[..8].copy_from_slice(&x.to_le_bytes());
    e[8..].copy_from_slice(&i.to_le_bytes());
    e
}

fn line(name: &str, unit: &str, value: f64) {
    println!("{{\"name\":\"{}\",\"unit\":\"{}\",\"value\":{:.3}}}", name, unit, value);
}

fn main() {
    let n_inc: u64 = 10_000_000;
    let mut c: GCounter<u64> = GCounter::new();
    let t = Instant::now();
    for _ in 0..n_inc {
        let op = c.inc(1);
        c.apply(op);
    }
    let dt = t.elapsed().as_secs_f64();
    std::hint::black_box(c.read());
    line("crdt.gcounter.increment", "ops/s", n_inc as f64 / dt);

    let n_add: u64 = 1_000_000;
    let mut s: Orswot<[u8; 16], u64> = Orswot::new();
    let t = Instant::now();
    for i in 0..n_add {
        let ctx = s.read_ctx().derive_add_ctx(1);
        let op = s.add(elem(i), ctx);
        s.apply(op);
    }
    let dt = t.elapsed().as_secs_f64();
    line("crdt.orset.add", "ops/s", n_add as f64 / dt);
    drop(s);

    // two 1e5-element sets that differ in 10% of their elements
    let n = 100_000u64;
    let mut a: Orswot<[u8; 16], u64> = Orswot::new();
    for i in 0..n {
        let ctx = a.read_ctx().derive_add_ctx(1);
        let op = a.add(elem(i), ctx);
        a.apply(op);
    }
    let mut b = a.clone();
    for i in 0..n / 20 {
        let ctx = b.contains(&elem(i)).derive_rm_ctx();
        let op = b.rm(elem(i), ctx);
        b.apply(op);
        let ctx = b.read_ctx().derive_add_ctx(2);
        let op = b.add(elem(n + i), ctx);
        b.apply(op);
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut x = a.clone();
        let y = b.clone();
        let t = Instant::now();
        x.merge(y);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        std::hint::black_box(&x);
        if ms < best {
            best = ms;
        }
    }
    line("crdt.orset.merge_1e5", "ms", best);
}
