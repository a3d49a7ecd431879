package dev.siteward.gateway.server;

import io.netty.channel.Channel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Open TLS connections by client identity ({@code device/<id>}, {@code admin/<name>}), so a revocation or suspension
 * can close a device's live connections at once instead of waiting for them to end.
 */
public final class ConnectionTracker {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionTracker.class);

    private final Map<String, Set<Channel>> byIdentity = new ConcurrentHashMap<>();
    private final List<Consumer<String>> sessionClosers = new CopyOnWriteArrayList<>();

    /**
     * Registers a closer for sessions this tracker does not hold itself (e.g. MQTT sessions): {@link #closeAll} calls
     * it with the identity after closing the tracked connections. A closer must not block.
     */
    public void addSessionCloser(Consumer<String> closer) {
        sessionClosers.add(closer);
    }

    /** Tracks the channel until it closes. */
    public void add(String identity, Channel channel) {
        byIdentity.computeIfAbsent(identity, k -> ConcurrentHashMap.newKeySet()).add(channel);
        channel.closeFuture().addListener(f -> {
            Set<Channel> set = byIdentity.get(identity);
            if (set != null) {
                set.remove(channel);
                if (set.isEmpty()) {
                    byIdentity.remove(identity, set);
                }
            }
        });
    }

    /** Closes every open connection of this identity (and, through the closers, its other sessions); returns how many
     * tracked connections were closed. */
    public int closeAll(String identity) {
        Set<Channel> set = byIdentity.remove(identity);
        for (Consumer<String> closer : sessionClosers) {
            try {
                closer.accept(identity);
            } catch (RuntimeException e) {
                LOG.warn("could not close the sessions of {}: {}", identity, e.toString());
            }
        }
        if (set == null) {
            return 0;
        }
        int n = 0;
        for (Channel c : set) {
            c.close();
            n++;
        }
        return n;
    }

    /** Number of open tracked connections of this identity. */
    public int count(String identity) {
        Set<Channel> set = byIdentity.get(identity);
        return set == null ? 0 : set.size();
    }
}
