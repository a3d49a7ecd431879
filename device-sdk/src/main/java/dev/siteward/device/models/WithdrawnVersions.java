package dev.siteward.device.models;

import dev.siteward.pki.modelsig.Withdrawal;
import java.util.List;
import java.util.TreeSet;

/**
 * What a device remembers of a model's verified withdrawals: the highest {@code withdrawnBelow} it saw and every
 * individually withdrawn version. Only grows: a later document that no longer lists a withdrawal cannot undo it.
 */
public record WithdrawnVersions(long below, List<Long> versions) {

    public static final WithdrawnVersions NONE = new WithdrawnVersions(0, List.of());

    public WithdrawnVersions {
        versions = List.copyOf(new TreeSet<>(versions));
    }

    /** True when {@code version} is withdrawn. */
    public boolean withdraws(long version) {
        return version < below || versions.contains(version);
    }

    /** This and a verified withdrawal statement together. */
    public WithdrawnVersions merge(Withdrawal w) {
        TreeSet<Long> all = new TreeSet<>(versions);
        all.addAll(w.withdrawnVersions());
        return new WithdrawnVersions(Math.max(below, w.withdrawnBelow().orElse(0)), List.copyOf(all));
    }
}
