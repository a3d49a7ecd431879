package dev.siteward.gateway.models;

import dev.siteward.gateway.rollout.Rollout;
import dev.siteward.gateway.rollout.RolloutTargets;
import dev.siteward.pki.modelsig.Withdrawal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which model versions one device should run: the one place that answers it (staged rollouts apply their stages
 * here, through {@link RolloutTargets}). A device is on the channel named by its {@code channel} label ({@value ModelRepository#DEFAULT_CHANNEL}
 * without one); a release applies when its classes are empty or list the device's {@code class} label.
 *
 * <p>A released version that its publisher has since withdrawn is never offered: the device is pointed at the
 * highest published, non-withdrawn version below it, with {@code rollbackFrom} set to the withdrawn version (or
 * higher), so devices that installed it go back; when there is none, the model is not listed.
 */
public final class ReleaseTargets {

    private ReleaseTargets() {
    }

    /** One model a device should run. */
    public record Target(String model, long version, String channel, Long rollbackFrom, String signatureSha256,
                         long signatureSize, List<ModelRepository.FileEntry> files, List<String> withdrawalShas) {
    }

    /**
     * The targets for a device with this id and these labels, sorted by model name: the channel's releases with its
     * rollouts applied ({@link RolloutTargets#choose}: a device in a reached stage gets the rollout's version, a
     * rolled-back rollout sends its devices back with {@code rollbackFrom}), then withdrawals.
     */
    public static List<Target> forDevice(Connection c, String deviceId, Map<String, String> labels)
            throws SQLException {
        return new Reader(c).forDevice(deviceId, labels);
    }

    /**
     * Reads the targets of several devices in one transaction, reading what they share once: a channel's releases and
     * rollouts, a model's withdrawals and versions (the device's own labels and rollout stage are applied per device).
     * Valid only inside the transaction of its connection; not thread-safe.
     */
    public static final class Reader {
        private final Connection c;
        private final Map<String, List<ModelRepository.Release>> releases = new HashMap<>();
        private final Map<String, List<Rollout>> rollouts = new HashMap<>();
        private final Map<String, List<ModelRepository.StoredWithdrawal>> withdrawals = new HashMap<>();
        private final Map<String, List<ModelRepository.Version>> versions = new HashMap<>();

        public Reader(Connection c) {
            this.c = c;
        }

        /** The targets for a device with this id and these labels, as {@link ReleaseTargets#forDevice}. */
        public List<Target> forDevice(String deviceId, Map<String, String> labels) throws SQLException {
            String channel = labels.getOrDefault("channel", ModelRepository.DEFAULT_CHANNEL);
            String cls = labels.get("class");
            List<RolloutTargets.Release> applicable = new ArrayList<>();
            for (ModelRepository.Release r : channelReleases(channel)) {
                if (r.classes().isEmpty() || (cls != null && r.classes().contains(cls))) {
                    applicable.add(new RolloutTargets.Release(r.model(), r.channel(), r.version(), r.classes(),
                            r.rollbackFrom()));
                }
            }
            List<Rollout> channelRollouts = memo(rollouts, channel, ch -> RolloutTargets.ofChannel(c, ch));
            List<Target> out = new ArrayList<>();
            for (RolloutTargets.Choice r : RolloutTargets.choose(channelRollouts, deviceId, labels, channel,
                    applicable)) {
                List<ModelRepository.StoredWithdrawal> stored = withdrawals(r.model());
                List<Withdrawal> withdrawn = stored.stream().map(ModelRepository.StoredWithdrawal::withdrawal).toList();
                long version = r.version();
                Long rollbackFrom = r.rollbackFrom();
                if (withdrawn.stream().anyMatch(w -> w.withdraws(r.version()))) {
                    var fallback = versions(r.model()).stream()
                            .filter(v -> v.version() < r.version() && !v.withdrawn())
                            .max(Comparator.comparingLong(ModelRepository.Version::version));
                    if (fallback.isEmpty()) {
                        continue;
                    }
                    version = fallback.get().version();
                    rollbackFrom = Math.max(r.version(), rollbackFrom == null ? r.version() : rollbackFrom);
                }
                long chosen = version;
                ModelRepository.Version v = versions(r.model()).stream()
                        .filter(x -> x.version() == chosen).findFirst().orElseThrow();
                out.add(new Target(r.model(), chosen, r.channel(), rollbackFrom, v.signatureSha256(),
                        v.signatureSize(), v.files(),
                        stored.stream().map(ModelRepository.StoredWithdrawal::bundleSha256).toList()));
            }
            return out;
        }

        private List<ModelRepository.Release> channelReleases(String channel) throws SQLException {
            return memo(releases, channel, ch -> {
                List<ModelRepository.Release> list = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT model_name, channel, version, classes, "
                        + "rollback_from, released_at FROM model_releases WHERE channel = ? ORDER BY model_name")) {
                    ps.setString(1, ch);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            list.add(ModelRepository.release(rs.getString("model_name"), rs));
                        }
                    }
                }
                return list;
            });
        }

        private List<ModelRepository.StoredWithdrawal> withdrawals(String model) throws SQLException {
            return memo(withdrawals, model, m -> ModelRepository.storedWithdrawals(c, m));
        }

        private List<ModelRepository.Version> versions(String model) throws SQLException {
            return memo(versions, model, m -> ModelRepository.versions(c, m));
        }

        private interface Read<T> {
            T read(String key) throws SQLException;
        }

        /** What this transaction already read for {@code key}, or what {@code read} reads now (then kept). */
        private static <T> T memo(Map<String, T> cache, String key, Read<T> read) throws SQLException {
            T value = cache.get(key);
            if (value == null) {
                value = read.read(key);
                cache.put(key, value);
            }
            return value;
        }
    }
}
