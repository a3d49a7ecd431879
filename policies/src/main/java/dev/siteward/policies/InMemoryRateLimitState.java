package dev.siteward.policies;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps a sliding window of use timestamps per key in memory; state is lost on restart.
 *
 * <p>Memory grows with the number of distinct (rule, subject, action) keys and at most {@code max} timestamps each
 * (older entries are pruned when a key is used again).
 */
public final class InMemoryRateLimitState implements RateLimitState {

    private final Map<String, Deque<Instant>> uses = new ConcurrentHashMap<>();

    @Override
    public int recentCount(String key, Instant now, Duration window) {
        Deque<Instant> q = uses.get(key);
        if (q == null) {
            return 0;
        }
        Instant since = now.minus(window);
        synchronized (q) {
            int n = 0;
            for (Iterator<Instant> it = q.descendingIterator(); it.hasNext(); ) {
                if (!it.next().isAfter(since)) {
                    break;
                }
                n++;
            }
            return n;
        }
    }

    @Override
    public void record(String key, Instant now, Duration window) {
        Deque<Instant> q = uses.computeIfAbsent(key, k -> new ArrayDeque<>());
        Instant since = now.minus(window);
        synchronized (q) {
            while (!q.isEmpty() && !q.peekFirst().isAfter(since)) {
                q.pollFirst();
            }
            q.addLast(now);
        }
    }
}
