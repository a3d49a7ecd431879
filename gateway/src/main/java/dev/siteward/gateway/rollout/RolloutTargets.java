package dev.siteward.gateway.rollout;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which version of each model a device's channel gives it once rollouts are applied, before withdrawals
 * ({@code ReleaseTargets} applies those). For each model, the newest rollout of the device's channel that reached
 * the device (targeted, in a stage up to the current one) and was not rolled back decides:
 * <ul>
 *   <li>the device gets that rollout's version (so a device an aborted rollout left on its version stays there
 *       while a later rollout has not reached it; a {@code model release} reaches every device of its classes);</li>
 *   <li>every other device gets the channel's release (the version the rollout replaces), with
 *       {@code rollbackFrom} raised to the highest rolled-back rollout version above it, so a device that installed
 *       a rolled-back version is allowed (and told) to go back, by metadata with a higher version.</li>
 * </ul>
 */
public final class RolloutTargets {

    private RolloutTargets() {
    }

    /** A channel's release as {@code model_releases} holds it. */
    public record Release(String model, String channel, long version, List<String> classes, Long rollbackFrom) {
    }

    /** The version a device should run of one model, and the version it may roll back from. */
    public record Choice(String model, String channel, long version, Long rollbackFrom) {
    }

    /**
     * Applies the channel's rollouts to its releases for one device.
     *
     * @param releases the channel's releases that apply to the device (class already matched)
     */
    public static List<Choice> choose(Connection c, String deviceId, Map<String, String> labels, String channel,
                                      List<Release> releases) throws SQLException {
        return choose(ofChannel(c, channel), deviceId, labels, channel, releases);
    }

    /** The channel's rollouts, as {@link #choose(List, String, Map, String, List)} takes them. */
    public static List<Rollout> ofChannel(Connection c, String channel) throws SQLException {
        return RolloutService.ofChannel(c, channel);
    }

    /**
     * {@link #choose(Connection, String, Map, String, List)} with the channel's rollouts already read (for several
     * devices in one transaction).
     */
    public static List<Choice> choose(List<Rollout> channelRollouts, String deviceId, Map<String, String> labels,
                                      String channel, List<Release> releases) {
        Map<String, List<Rollout>> byModel = new LinkedHashMap<>();
        for (Rollout r : channelRollouts) {
            byModel.computeIfAbsent(r.model(), k -> new ArrayList<>()).add(r);
        }
        Map<String, Choice> out = new java.util.TreeMap<>();
        for (Release rel : releases) {
            out.put(rel.model(), new Choice(rel.model(), channel, rel.version(),
                    rollbackFrom(byModel.getOrDefault(rel.model(), List.of()), rel.version(), rel.rollbackFrom())));
        }
        for (Map.Entry<String, List<Rollout>> e : byModel.entrySet()) {
            List<Rollout> rollouts = e.getValue();
            Long chosen = null;
            for (int i = rollouts.size() - 1; i >= 0; i--) {
                Rollout r = rollouts.get(i);
                if (r.state() != Rollout.State.ROLLED_BACK && r.reached(deviceId, labels)) {
                    chosen = r.version();
                    break;
                }
            }
            Choice base = out.get(e.getKey());
            if (chosen == null || (base != null && base.version() == chosen)) {
                continue;
            }
            Long rb = base != null && chosen < base.version() ? base.version() : null;
            out.put(e.getKey(), new Choice(e.getKey(), channel, chosen, rollbackFrom(rollouts, chosen, rb)));
        }
        return List.copyOf(out.values());
    }

    private static Long rollbackFrom(List<Rollout> rollouts, long version, Long current) {
        Long rb = current;
        for (Rollout r : rollouts) {
            if (r.state() == Rollout.State.ROLLED_BACK && r.version() > version && (rb == null || r.version() > rb)) {
                rb = r.version();
            }
        }
        return rb;
    }
}
