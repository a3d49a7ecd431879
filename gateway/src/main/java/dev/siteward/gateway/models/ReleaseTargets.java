package dev.siteward.gateway.models;

import dev.siteward.gateway.rollout.RolloutTargets;
import dev.siteward.pki.modelsig.Withdrawal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
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
        String channel = labels.getOrDefault("channel", ModelRepository.DEFAULT_CHANNEL);
        String cls = labels.get("class");
        List<RolloutTargets.Release> applicable = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT model_name, channel, version, classes, rollback_from, "
                + "released_at FROM model_releases WHERE channel = ? ORDER BY model_name")) {
            ps.setString(1, channel);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ModelRepository.Release r = ModelRepository.release(rs.getString("model_name"), rs);
                    if (r.classes().isEmpty() || (cls != null && r.classes().contains(cls))) {
                        applicable.add(new RolloutTargets.Release(r.model(), r.channel(), r.version(), r.classes(),
                                r.rollbackFrom()));
                    }
                }
            }
        }
        List<ModelRepository.Release> releases = new ArrayList<>();
        for (RolloutTargets.Choice ch : RolloutTargets.choose(c, deviceId, labels, channel, applicable)) {
            releases.add(new ModelRepository.Release(ch.model(), ch.channel(), ch.version(), List.of(),
                    ch.rollbackFrom(), null));
        }
        List<Target> out = new ArrayList<>();
        for (ModelRepository.Release r : releases) {
            List<ModelRepository.StoredWithdrawal> stored = ModelRepository.storedWithdrawals(c, r.model());
            List<Withdrawal> withdrawals = stored.stream().map(ModelRepository.StoredWithdrawal::withdrawal).toList();
            long version = r.version();
            Long rollbackFrom = r.rollbackFrom();
            if (withdrawals.stream().anyMatch(w -> w.withdraws(r.version()))) {
                var fallback = ModelRepository.versions(c, r.model()).stream()
                        .filter(v -> v.version() < r.version() && !v.withdrawn())
                        .max(Comparator.comparingLong(ModelRepository.Version::version));
                if (fallback.isEmpty()) {
                    continue;
                }
                version = fallback.get().version();
                rollbackFrom = Math.max(r.version(), rollbackFrom == null ? r.version() : rollbackFrom);
            }
            long chosen = version;
            ModelRepository.Version v = ModelRepository.versions(c, r.model()).stream()
                    .filter(x -> x.version() == chosen).findFirst().orElseThrow();
            out.add(new Target(r.model(), chosen, r.channel(), rollbackFrom, v.signatureSha256(), v.signatureSize(),
                    v.files(), stored.stream().map(ModelRepository.StoredWithdrawal::bundleSha256).toList()));
        }
        return out;
    }
}
