package dev.siteward.gateway.server;

import io.netty.channel.Channel;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open TLS connections by client identity ({@code device/<id>}, {@code admin/<name>}), so a revocation or suspension
 * can close a device's live connections at once instead of waiting for them to end.
 */
public final class ConnectionTracker {

    private final Map<String, Set<Channel>> byIdentity = new ConcurrentHashMap<>();

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

    /** Closes every open connection of this identity; returns how many were closed. */
    public int closeAll(String identity) {
        Set<Channel> set = byIdentity.remove(identity);
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
