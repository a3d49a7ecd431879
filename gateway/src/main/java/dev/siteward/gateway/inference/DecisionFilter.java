package dev.siteward.gateway.inference;

/**
 * k-of-n smoothing with hysteresis for one device and model, so that one noisy reading does not fire an alarm: the
 * decision turns {@code alarm} when at least {@code k} of the last {@code n} readings were above the threshold, and
 * back to {@code normal} only when at most {@code clear} of the last {@code n} were. Not thread-safe: the batcher
 * calls it from its one worker thread.
 */
public final class DecisionFilter {

    /** The decision when not alarmed. */
    public static final String NORMAL = "normal";
    /** The decision while alarmed. */
    public static final String ALARM = "alarm";

    private final int k;
    private final int n;
    private final int clear;
    private final boolean[] window;
    private int next;
    private int filled;
    private int hits;
    private boolean alarm;

    public DecisionFilter(int k, int n, int clear) {
        if (n < 1 || k < 1 || k > n || clear < 0 || clear >= k) {
            throw new IllegalArgumentException("need 1 <= k <= n and 0 <= clear < k");
        }
        this.k = k;
        this.n = n;
        this.clear = clear;
        this.window = new boolean[n];
    }

    /** Adds one reading's threshold test; returns the decision and whether an alarm just started. */
    public Step add(boolean above) {
        if (filled == n) {
            hits -= window[next] ? 1 : 0;
        } else {
            filled++;
        }
        window[next] = above;
        hits += above ? 1 : 0;
        next = (next + 1) % n;
        boolean started = false;
        if (!alarm && hits >= k) {
            alarm = true;
            started = true;
        } else if (alarm && hits <= clear) {
            alarm = false;
        }
        return new Step(alarm ? ALARM : NORMAL, started);
    }

    /** The decision now, without adding a reading (for answering a reading that was already counted). */
    public String current() {
        return alarm ? ALARM : NORMAL;
    }

    /** One step's decision, and whether it started an alarm (the moment an action is requested). */
    public record Step(String decision, boolean alarmStarted) {
    }
}
