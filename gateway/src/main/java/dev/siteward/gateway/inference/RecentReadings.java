package dev.siteward.gateway.inference;

import java.time.Duration;
import java.util.Arrays;

/**
 * The recent readings of one device for one model, so that a reading the device sends again (same {@code seq}, same
 * features and {@code ts}: the SDK resends a reading unanswered after 5 s, and after its restart) is recognised as
 * the same reading: it is answered with the decision the first copy got, but is not counted again in k-of-n, requests
 * no action, is not stored and not shadow-compared again.
 *
 * <p>Bounded: at most {@value #CAPACITY} readings per device and model, each remembered for {@link #HORIZON} after it
 * arrived (a ring of primitive arrays, about {@code 25 * CAPACITY} bytes). A {@code seq} seen with other features or
 * another {@code ts} is a new reading — a device that restarted its counter from 1 — and replaces the remembered one;
 * so does any {@code seq} after the horizon. Thread-safe (readings arrive on MQTT and HTTP threads; results on the
 * model's batcher thread).
 */
final class RecentReadings {

    /** Readings remembered per device and model. */
    static final int CAPACITY = 256;
    /** How long a reading is remembered after it arrived. */
    static final Duration HORIZON = Duration.ofMinutes(10);

    /** What {@link #claim} found. */
    enum Claim {
        /** The first copy of the reading (or a repeat of one that failed): run it in full. */
        FIRST,
        /** A copy of a reading already accepted: answer it, nothing else. */
        REPEAT
    }

    private static final byte PENDING = 0;
    private static final byte FAILED = 1;
    private static final byte NO_DECISION = 2;
    private static final byte NORMAL = 3;
    private static final byte ALARM = 4;

    private final long[] seqs = new long[CAPACITY];
    private final long[] digests = new long[CAPACITY];
    private final long[] arrived = new long[CAPACITY];
    private final byte[] states = new byte[CAPACITY];
    private int next;
    private int size;

    /**
     * Records the reading's arrival at {@code nowMillis}; {@link Claim#REPEAT} when the same reading was accepted
     * within the horizon and did not fail.
     */
    synchronized Claim claim(long seq, long digest, long nowMillis) {
        int i = find(seq, nowMillis);
        if (i >= 0 && digests[i] == digest && states[i] != FAILED) {
            return Claim.REPEAT;
        }
        if (i < 0) {
            i = next;
            next = (next + 1) % CAPACITY;
            size = Math.min(size + 1, CAPACITY);
        }
        seqs[i] = seq;
        digests[i] = digest;
        arrived[i] = nowMillis;
        states[i] = PENDING;
        return Claim.FIRST;
    }

    /** The first copy was answered with {@code decision} (null: the model has no threshold). */
    synchronized void decided(long seq, long digest, String decision) {
        int i = exact(seq, digest);
        if (i >= 0) {
            states[i] = decision == null ? NO_DECISION : DecisionFilter.ALARM.equals(decision) ? ALARM : NORMAL;
        }
    }

    /** The first copy was not run (shed, or failed in the batcher): a copy that comes again is run in full. */
    synchronized void failed(long seq, long digest) {
        int i = exact(seq, digest);
        if (i >= 0) {
            states[i] = FAILED;
        }
    }

    /**
     * What a repeat should answer when its turn comes on the batcher thread: the first copy's decision; or, when the
     * first copy failed meanwhile, {@link Replay#RUN} (the repeat is run in full and becomes the first copy); or,
     * when the first copy is still queued or was forgotten, {@link Replay#CURRENT} (answer with the filter's current
     * state, count nothing).
     */
    synchronized Replay replay(long seq, long digest) {
        int i = exact(seq, digest);
        if (i < 0 || states[i] == PENDING) {
            return Replay.CURRENT;
        }
        if (states[i] == FAILED) {
            states[i] = PENDING;
            return Replay.RUN;
        }
        return new Replay(Replay.Kind.DECIDED, states[i] == NO_DECISION ? null
                : states[i] == ALARM ? DecisionFilter.ALARM : DecisionFilter.NORMAL);
    }

    /** How to answer a repeat; {@code decision} is set for {@link Kind#DECIDED} (null: no threshold). */
    record Replay(Kind kind, String decision) {
        static final Replay RUN = new Replay(Kind.RUN, null);
        static final Replay CURRENT = new Replay(Kind.CURRENT, null);

        enum Kind { RUN, DECIDED, CURRENT }
    }

    /** Readings remembered now (for tests). */
    synchronized int size() {
        return size;
    }

    private int find(long seq, long nowMillis) {
        long oldest = nowMillis - HORIZON.toMillis();
        for (int n = 0, i = (next - 1 + CAPACITY) % CAPACITY; n < size; n++, i = (i - 1 + CAPACITY) % CAPACITY) {
            if (seqs[i] == seq && arrived[i] >= oldest) {
                return i;
            }
        }
        return -1;
    }

    private int exact(long seq, long digest) {
        for (int n = 0, i = (next - 1 + CAPACITY) % CAPACITY; n < size; n++, i = (i - 1 + CAPACITY) % CAPACITY) {
            if (seqs[i] == seq && digests[i] == digest) {
                return i;
            }
        }
        return -1;
    }

    /** A 64-bit digest of what makes a reading itself: its features (exact bits) and {@code ts}. */
    static long digest(double[] features, String ts) {
        long h = 0xcbf29ce484222325L;
        for (double f : features) {
            h = (h ^ Double.doubleToLongBits(f)) * 0x100000001b3L;
            h ^= h >>> 29;
        }
        h = (h ^ (ts == null ? 0 : ts.hashCode())) * 0x100000001b3L;
        return h ^ (h >>> 32) ^ Arrays.hashCode(features);
    }
}
