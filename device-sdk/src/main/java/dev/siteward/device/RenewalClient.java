package dev.siteward.device;

import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.keys.CertificationRequests;
import dev.siteward.device.keys.DeviceKeyStore;
import dev.siteward.device.keys.KeyReference;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.device.trust.PinnedRoot;
import dev.siteward.device.trust.RootAdoption;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;

/**
 * Renews the device certificate through EST {@code simplereenroll} (RFC 7030 section 4.2.2) with a NEW key,
 * authenticated by the current certificate. The new key and certificate are committed only after the gateway issued
 * a certificate that is for the new key, validates to the pinned root and keeps the device's identity; until then,
 * and whenever anything fails, the working key and certificate stay exactly as they were. The old key is removed
 * only after the new state is committed. Transport failures are retried per the {@link RetryPolicy}; a refusal
 * (401/403, bad chain) is reported at once.
 */
public final class RenewalClient {

    /** Sends a reenrollment CSR and returns the issued chain; {@link DeviceHttpClient#simplereenroll} in practice. */
    @FunctionalInterface
    public interface Reenrollment {
        List<X509Certificate> simplereenroll(byte[] csrDer) throws DeviceException;
    }

    private final DeviceDirectory dir;
    private final DeviceKeyStore keys;
    private final Reenrollment gateway;
    private final Clock clock;
    private final RetryPolicy retry;
    private Consumer<DeviceIdentity> onRenewed = id -> { };
    private RootAnnouncements announcements;

    /** Fetches what the gateway announces about its roots; {@link DeviceHttpClient#rootOffer} in practice. */
    @FunctionalInterface
    public interface RootAnnouncements {
        RootAdoption.Offer fetch() throws DeviceException;
    }

    public RenewalClient(DeviceDirectory dir, DeviceKeyStore keys, Reenrollment gateway, Clock clock,
            RetryPolicy retry) {
        this.dir = dir;
        this.keys = keys;
        this.gateway = gateway;
        this.clock = clock;
        this.retry = retry;
    }

    /** Renews over the device's own mTLS client and switches that client to the new credential on success. */
    public static RenewalClient over(DeviceHttpClient http, DeviceDirectory dir, DeviceKeyStore keys, Clock clock,
            RetryPolicy retry) {
        return new RenewalClient(dir, keys, http::simplereenroll, clock, retry).onRenewed(http::use)
                .adoptingRootsFrom(http::rootOffer);
    }

    /**
     * After each renewal, asks for the gateway's root announcement and adopts a new root that a rollover
     * certificate signed by the pinned root vouches for ({@link RootAdoption}); the previous root is kept as a
     * former root until it expires. A failed fetch leaves the pin as it is until the next renewal.
     */
    public RenewalClient adoptingRootsFrom(RootAnnouncements source) {
        this.announcements = source;
        return this;
    }

    /** Called with the new identity after each successful renewal. */
    public RenewalClient onRenewed(Consumer<DeviceIdentity> listener) {
        this.onRenewed = listener;
        return this;
    }

    /** Renews now; returns the new identity (already committed to the directory). */
    public DeviceIdentity renew() throws DeviceException {
        DeviceIdentity renewed;
        try (AutoCloseable lock = dir.lock()) {
            renewed = renewLocked();
        } catch (DeviceException e) {
            throw e;
        } catch (Exception e) {
            throw new DeviceException(Reason.STORAGE, "cannot release the lock of " + dir.path(), e);
        }
        onRenewed.accept(renewed);
        return renewed;
    }

    private DeviceIdentity renewLocked() throws DeviceException {
        DeviceState current = dir.load();
        if (!current.certificate().getNotAfter().toInstant().isAfter(clock.instant())) {
            throw new DeviceException(Reason.REFUSED, "the device certificate expired at "
                    + current.certificate().getNotAfter().toInstant() + ": it cannot renew itself; enroll again "
                    + "with a new token");
        }
        KeyPair key = keys.generate();
        byte[] csr = CertificationRequests.create(key, current.deviceId(), keys.signatureProvider());
        List<X509Certificate> issued = retry.run(() -> gateway.simplereenroll(csr));
        List<X509Certificate> chain = checkIssued(current, issued, key);
        KeyReference ref = keys.store(key, chain);
        DeviceState next = adoptNewerRoot(current.renewed(chain, ref, clock.instant()));
        try {
            dir.commit(next);
        } catch (DeviceException e) {
            keys.delete(ref);
            throw e;
        }
        keys.delete(current.key());
        if (keys instanceof Pkcs12DeviceKeyStore p12) {
            p12.deleteAllExcept(ref);
        }
        return new DeviceIdentity(next, key.getPrivate());
    }

    /** Checks the issued chain against the pinned root, then (after a root rollover) against the former roots. */
    private List<X509Certificate> checkIssued(DeviceState current, List<X509Certificate> issued, KeyPair key)
            throws DeviceException {
        DeviceException first = null;
        for (X509Certificate root : current.roots(clock.instant())) {
            try {
                return EnrollmentClient.checkIssued(issued, key, new PinnedRoot(root), current.trustDomain(),
                        current.spiffeId(), clock.instant());
            } catch (DeviceException e) {
                if (e.reason() != Reason.UNTRUSTED_GATEWAY) {
                    throw e;
                }
                first = first == null ? e : first;
            }
        }
        throw first;
    }

    private DeviceState adoptNewerRoot(DeviceState state) {
        if (announcements == null) {
            return state;
        }
        try {
            return RootAdoption.newerRoot(state.root(), announcements.fetch(), clock.instant())
                    .map(root -> state.withAdoptedRoot(root, clock.instant())).orElse(state);
        } catch (DeviceException | RuntimeException e) {
            return state; // no announcement this time: the pin stays, and the next renewal asks again
        }
    }
}
