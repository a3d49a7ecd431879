package dev.siteward.gateway.drift;

/**
 * The last {@code capacity} readings of one device for one model, kept as bin counts per feature: a ring of bin
 * indexes (one byte per feature and reading), the counts it sums to and the readings' {@code seq}, so memory is
 * {@code capacity * (features + 8)} bytes plus the counts, whatever the readings. A reading whose {@code seq} is
 * already in the window (a device resending an unanswered reading) is not counted twice. Not thread-safe:
 * {@link DriftMonitor} locks it.
 */
final class PsiWindow {

    /** An empty bin counts as this share, so that {@code ln(actual / expected)} stays finite. */
    static final double FLOOR = 1e-4;

    private final DriftReference reference;
    private final int capacity;
    private final int features;
    private final byte[] ring;
    private final int[] counts;
    private final long[] seqs;
    private int size;
    private int next;

    PsiWindow(DriftReference reference, int capacity) {
        this.reference = reference;
        this.capacity = capacity;
        this.features = reference.features();
        this.ring = new byte[capacity * features];
        this.counts = new int[features * DriftReference.BINS];
        this.seqs = new long[capacity];
    }

    DriftReference reference() {
        return reference;
    }

    int size() {
        return size;
    }

    /**
     * Adds a reading (as many values as the reference has features), dropping the oldest when full; returns false
     * (and counts nothing) when a reading with this {@code seq} is already in the window.
     */
    boolean add(long seq, double[] values) {
        for (int i = 0; i < size; i++) {
            if (seqs[i] == seq) {
                return false;
            }
        }
        seqs[next] = seq;
        int base = next * features;
        for (int f = 0; f < features; f++) {
            if (size == capacity) {
                counts[f * DriftReference.BINS + ring[base + f]]--;
            }
            int bin = reference.bin(f, values[f]);
            ring[base + f] = (byte) bin;
            counts[f * DriftReference.BINS + bin]++;
        }
        next = (next + 1) % capacity;
        if (size < capacity) {
            size++;
        }
        return true;
    }

    /**
     * The population stability index of each feature over the window: {@code sum over bins of (a - e) * ln(a / e)}
     * with {@code a} the window's share in the bin (at least {@link #FLOOR}) and {@code e} the reference's.
     */
    double[] psi() {
        double[] out = new double[features];
        if (size == 0) {
            return out;
        }
        double e = reference.expected();
        for (int f = 0; f < features; f++) {
            double sum = 0;
            for (int b = 0; b < DriftReference.BINS; b++) {
                double a = Math.max((double) counts[f * DriftReference.BINS + b] / size, FLOOR);
                sum += (a - e) * Math.log(a / e);
            }
            out[f] = sum;
        }
        return out;
    }
}
