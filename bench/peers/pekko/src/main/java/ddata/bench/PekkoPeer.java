/*
 * The Pekko peer of ddata's benchmarks: Apache Pekko Distributed Data
 * doing the same work as bench/bench_crdt.c and bench/bench_cluster.c, in
 * the same run, so their lines can carry Pekko's figure as `baseline`.
 *
 *   java ... ddata.bench.PekkoPeer crdt   ORSet add / merge, GCounter
 *                                         increment, heap bytes per element
 *   java ... ddata.bench.PekkoPeer net    three ActorSystems (artery TCP on
 *                                         127.0.0.1): visibility and
 *                                         sustained updates, with Pekko's
 *                                         defaults and with the fast
 *                                         gossip settings
 *
 * Every figure is a median over measured rounds that follow warm-up
 * rounds (the JIT compiles the hot paths during those). The CRDT
 * operations are called as Pekko's Replicator calls them: an update
 * returns a value that carries a running delta, and the Replicator resets
 * it after each update (`add(...).resetDelta()`).
 *
 * Output: one JSON object per line, {"name","unit","value"}, names as in
 * ddata's benchmarks (net lines for the fast settings end in ".fast").
 */
package ddata.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.Props;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.ddata.DistributedData;
import org.apache.pekko.cluster.ddata.GCounter;
import org.apache.pekko.cluster.ddata.GCounterKey;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.ORSet;
import org.apache.pekko.cluster.ddata.Replicator;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.util.ByteString;

public final class PekkoPeer {
    static final int N_ADD = 1_000_000;
    static final int N_INC = 2_000_000;
    static final int N_MERGE = 100_000;
    static final int VIS_UPDATES = 200;

    static void report(String name, String unit, double value) {
        System.out.printf("{\"name\":\"%s\",\"unit\":\"%s\",\"value\":%.6g}%n", name, unit, value);
        System.out.flush();
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static double percentile(double[] xs, double p) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int i = (int) Math.round(p / 100.0 * (s.length - 1));
        return s[Math.min(i, s.length - 1)];
    }

    /* The same 16-byte elements as bench_crdt.c: i * golden ratio, then i. */
    static ByteString elem(long i) {
        byte[] b = new byte[16];
        long x = i * 0x9E3779B97F4A7C15L;
        for (int k = 0; k < 8; k++) {
            b[k] = (byte) (x >>> (8 * k));
            b[8 + k] = (byte) (i >>> (8 * k));
        }
        return ByteString.fromArrayUnsafe(b);
    }

    static SelfUniqueAddress node(int n) {
        return SelfUniqueAddress.apply(
                new UniqueAddress(new Address("pekko", "bench", "127.0.0.1", 25520 + n), (long) n));
    }

    static long heapUsed() {
        for (int i = 0; i < 4; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static ORSet<ByteString> addAll(SelfUniqueAddress self, long from, long count) {
        ORSet<ByteString> s = ORSet.create();
        for (long i = from; i < from + count; i++)
            s = s.add(self, elem(i)).resetDelta();
        return s;
    }

    static void crdt() {
        SelfUniqueAddress n1 = node(1), n2 = node(2);

        /* GCounter increment */
        double[] inc = new double[5];
        for (int r = -3; r < inc.length; r++) {
            GCounter c = GCounter.create();
            long t = System.nanoTime();
            for (int i = 0; i < N_INC; i++)
                c = c.increment(n1, 1L).resetDelta();
            double s = (System.nanoTime() - t) / 1e9;
            if (c.getValue().longValue() != N_INC)
                throw new IllegalStateException("gcounter result");
            if (r >= 0)
                inc[r] = N_INC / s;
        }
        report("crdt.gcounter.increment", "ops/s", median(inc));

        /* ORSet add: two warm-up rounds of 2e5, three measured rounds of 1e6;
         * the heap after GC with the last set alive gives bytes per element
         * (elements included, as ddata's resident-set figure includes them). */
        for (int r = 0; r < 2; r++)
            addAll(n1, 0, N_ADD / 5);
        double[] add = new double[3];
        long heap0 = heapUsed();
        ORSet<ByteString> kept = null;
        for (int r = 0; r < add.length; r++) {
            kept = null;
            long t = System.nanoTime();
            ORSet<ByteString> s = addAll(n1, 0, N_ADD);
            add[r] = N_ADD / ((System.nanoTime() - t) / 1e9);
            if (s.size() != N_ADD)
                throw new IllegalStateException("orset add result");
            kept = s;
        }
        report("crdt.orset.add", "ops/s", median(add));
        long heap1 = heapUsed();
        report("crdt.orset.bytes_per_element", "bytes", (double) (heap1 - heap0) / N_ADD);
        if (kept.size() != N_ADD)
            throw new IllegalStateException("orset kept");
        kept = null;

        /* merge of two 1e5 sets built on two nodes, differing in 10% */
        ORSet<ByteString> a = addAll(n1, 0, N_MERGE);
        ORSet<ByteString> b = a;
        for (long i = 0; i < N_MERGE / 20; i++) {
            b = b.remove(n2, elem(i)).resetDelta();
            b = b.add(n2, elem(N_MERGE + i)).resetDelta();
        }
        double[] merge = new double[11];
        for (int r = -5; r < merge.length; r++) {
            long t = System.nanoTime();
            ORSet<ByteString> m = a.merge(b);
            double ms = (System.nanoTime() - t) / 1e6;
            /* Pekko returns one side unchanged when the other is its direct
             * ancestor; a new object proves the full merge ran. */
            if (m == a || m == b || m.size() != N_MERGE)
                throw new IllegalStateException("merge took the ancestor shortcut or lost elements");
            if (r >= 0)
                merge[r] = ms;
        }
        report("crdt.orset.merge_1e5", "ms", median(merge));
    }

    /* Records, per observed update number, when this node first saw it. */
    static final class Observer extends AbstractActor {
        final Key<GCounter> key;
        final long[] seenAt;
        long seen;

        Observer(Key<GCounter> key, long[] seenAt) {
            this.key = key;
            this.seenAt = seenAt;
        }

        @Override
        public Receive createReceive() {
            return receiveBuilder()
                    .match(Replicator.Changed.class, c -> {
                        long now = System.nanoTime();
                        GCounter g = (GCounter) c.dataValue();
                        long v = Math.min(g.getValue().longValue(), seenAt.length - 1);
                        synchronized (seenAt) {
                            for (long i = seen + 1; i <= v; i++)
                                seenAt[(int) i] = now;
                        }
                        seen = Math.max(seen, v);
                    })
                    .build();
        }
    }

    static Config config(boolean fast) {
        String s = String.join("\n",
                "pekko.loglevel = ERROR",
                "pekko.stdout-loglevel = ERROR",
                "pekko.log-dead-letters = off",
                "pekko.actor.provider = cluster",
                "pekko.remote.artery.transport = tcp",
                "pekko.remote.artery.canonical.hostname = 127.0.0.1",
                "pekko.remote.artery.canonical.port = 0",
                "pekko.cluster.jmx.enabled = off",
                "pekko.cluster.log-info = off",
                "pekko.coordinated-shutdown.exit-jvm = off",
                "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off");
        if (fast)
            s += "\npekko.cluster.distributed-data.gossip-interval = 100 ms"
                    + "\npekko.cluster.distributed-data.notify-subscribers-interval = 10 ms";
        return ConfigFactory.parseString(s).withFallback(ConfigFactory.load());
    }

    static long readLocal(ActorRef replicator, Key<GCounter> key) throws Exception {
        Object r = Patterns.ask(replicator, new Replicator.Get<>(key, Replicator.readLocal()),
                Duration.ofSeconds(10)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        if (r instanceof Replicator.GetSuccess)
            return ((GCounter) ((Replicator.GetSuccess<?>) r).dataValue()).getValue().longValue();
        return 0;
    }

    static Replicator.Update<GCounter> increment(Key<GCounter> key, SelfUniqueAddress self) {
        return new Replicator.Update<>(key, GCounter.create(), Replicator.writeLocal(),
                Optional.empty(), c -> c.increment(self, 1L));
    }

    static void net(boolean fast) throws Exception {
        String suffix = fast ? ".fast" : "";
        Config cfg = config(fast);
        List<ActorSystem> systems = new ArrayList<>();
        for (int i = 0; i < 3; i++)
            systems.add(ActorSystem.create("bench", cfg));
        try {
            Address first = Cluster.get(systems.get(0)).selfAddress();
            for (ActorSystem s : systems)
                Cluster.get(s).join(first);
            long deadline = System.nanoTime() + 60_000_000_000L;
            for (ActorSystem s : systems) {
                while (true) {
                    int up = 0;
                    for (Member m : Cluster.get(s).state().getMembers())
                        up += m.status() == MemberStatus.up() ? 1 : 0;
                    if (up == 3)
                        break;
                    if (System.nanoTime() > deadline)
                        throw new IllegalStateException("the 3 Pekko nodes did not form a cluster");
                    Thread.sleep(20);
                }
            }
            ActorRef r1 = DistributedData.get(systems.get(0)).replicator();
            SelfUniqueAddress self1 = DistributedData.get(systems.get(0)).selfUniqueAddress();

            /* Warm up: the replicators know each other once an update on
             * node 1 reads everywhere. */
            Key<GCounter> warm = GCounterKey.create("warm");
            for (int i = 0; i < 200; i++)
                r1.tell(increment(warm, self1), ActorRef.noSender());
            for (int n = 1; n < 3; n++) {
                ActorRef rn = DistributedData.get(systems.get(n)).replicator();
                while (readLocal(rn, warm) < 200) {
                    if (System.nanoTime() > deadline)
                        throw new IllegalStateException("warm-up updates did not converge");
                    Thread.sleep(10);
                }
            }

            /* Visibility: updates on node 1 with random pauses; subscribers
             * on nodes 2 and 3 note when each update number shows up. */
            Key<GCounter> vis = GCounterKey.create("vis");
            long[][] seen = {new long[VIS_UPDATES + 1], new long[VIS_UPDATES + 1]};
            for (int n = 1; n < 3; n++) {
                ActorSystem s = systems.get(n);
                ActorRef obs = s.actorOf(Props.create(Observer.class, vis, seen[n - 1]));
                DistributedData.get(s).replicator().tell(new Replicator.Subscribe<>(vis, obs),
                        ActorRef.noSender());
            }
            Thread.sleep(500);
            long[] sent = new long[VIS_UPDATES + 1];
            Random rnd = new Random(20);
            for (int i = 1; i <= VIS_UPDATES; i++) {
                sent[i] = System.nanoTime();
                r1.tell(increment(vis, self1), ActorRef.noSender());
                Thread.sleep(rnd.nextInt(50));
            }
            long visDeadline = System.nanoTime() + 30_000_000_000L;
            double[] ms = new double[VIS_UPDATES];
            for (int i = 1; i <= VIS_UPDATES; i++) {
                long at;
                while (true) {
                    synchronized (seen[0]) {
                        synchronized (seen[1]) {
                            at = seen[0][i] != 0 && seen[1][i] != 0 ? Math.max(seen[0][i], seen[1][i]) : 0;
                        }
                    }
                    if (at != 0)
                        break;
                    if (System.nanoTime() > visDeadline)
                        throw new IllegalStateException("update " + i + " not visible within 30 s");
                    Thread.sleep(5);
                }
                ms[i - 1] = (at - sent[i]) / 1e6;
            }
            report("net.visibility.p50" + suffix, "ms", percentile(ms, 50));
            report("net.visibility.p99" + suffix, "ms", percentile(ms, 99));

            /* Sustained updates on node 1 for ~2 s (a local read after each
             * 1000 keeps the mailbox bounded), counted until nodes 2 and 3
             * read the total. */
            Key<GCounter> u = GCounterKey.create("u");
            long total = 0;
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < 2_000_000_000L) {
                for (int i = 0; i < 1000; i++)
                    r1.tell(increment(u, self1), ActorRef.noSender());
                total += 1000;
                readLocal(r1, u);
            }
            long convDeadline = System.nanoTime() + 60_000_000_000L;
            for (int n = 1; n < 3; n++) {
                ActorRef rn = DistributedData.get(systems.get(n)).replicator();
                while (readLocal(rn, u) < total) {
                    if (System.nanoTime() > convDeadline)
                        throw new IllegalStateException("sustained updates did not converge");
                    Thread.sleep(1);
                }
            }
            report("net.updates_per_s" + suffix, "ops/s", total / ((System.nanoTime() - t0) / 1e9));
        } finally {
            for (ActorSystem s : systems)
                s.terminate();
            for (ActorSystem s : systems)
                s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "all";
        if (what.equals("crdt") || what.equals("all"))
            crdt();
        if (what.equals("net") || what.equals("all")) {
            net(false);
            net(true);
        }
        System.exit(0);
    }
}
