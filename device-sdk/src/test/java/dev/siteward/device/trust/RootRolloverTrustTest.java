package dev.siteward.device.trust;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.keys.KeyReference;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a device does across a root rollover: validate with either pin, adopt the new root only when vouched for. */
class RootRolloverTrustTest {

    @TempDir
    Path tmp;

    private static X509Certificate[] presented(SiteCa ca, X509Certificate leaf) {
        List<X509Certificate> chain = new ArrayList<>(ca.servedChain(leaf));
        chain.addAll(ca.trustedRoots());
        return chain.toArray(new X509Certificate[0]);
    }

    @Test
    void aServerChainAfterTheRolloverIsAcceptedWithTheOldPinAndWithTheNewPin() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestPki site = TestPki.create(tmp.resolve("site"), clock)) {
            X509Certificate oldRoot = site.root();
            site.issueDevice("pump-1");
            site.ca().rotateRoot(null, null);
            X509Certificate newRoot = site.root();
            X509Certificate[] chain = presented(site.ca(), site.issueServer("gateway.local", "localhost")
                    .certificate());
            assertDoesNotThrow(() -> PinnedRootTrustManager.forRoot(oldRoot, clock)
                    .checkServerTrusted(chain, "ECDHE_ECDSA"), "the old pin, through the cross certificate");
            assertDoesNotThrow(() -> PinnedRootTrustManager.forRoot(newRoot, clock)
                    .checkServerTrusted(chain, "ECDHE_ECDSA"), "the new pin, directly");
            assertDoesNotThrow(() -> PinnedRootTrustManager.forRoots(List.of(newRoot, oldRoot), clock)
                    .checkServerTrusted(chain, "ECDHE_ECDSA"));
            // without the rollover certificates an old pin cannot reach a new server certificate
            X509Certificate[] bare = {chain[0], chain[1]};
            assertThrows(CertificateException.class, () -> PinnedRootTrustManager.forRoot(oldRoot, clock)
                    .checkServerTrusted(bare, "ECDHE_ECDSA"));
        }
    }

    @Test
    void aNewRootIsAdoptedOnlyWhenACrossCertificateSignedByThePinnedRootVouchesForIt() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestPki site = TestPki.create(tmp.resolve("site"), clock);
             TestPki other = TestPki.create(tmp.resolve("other"), clock)) {
            X509Certificate oldRoot = site.root();
            site.issueDevice("pump-1");
            assertEquals(Optional.empty(), RootAdoption.newerRoot(oldRoot,
                    new RootAdoption.Offer(site.ca().trustedRoots(), site.ca().rolloverCertificates()),
                    clock.instant()), "no rollover: the pin stays");
            site.ca().rotateRoot(null, null);
            X509Certificate newRoot = site.root();
            List<X509Certificate> rollover = site.ca().rolloverCertificates();
            RootAdoption.Offer offer = new RootAdoption.Offer(site.ca().trustedRoots(), rollover);

            assertEquals(Optional.of(newRoot), RootAdoption.newerRoot(oldRoot, offer, clock.instant()));
            assertEquals(Optional.empty(), RootAdoption.newerRoot(newRoot, offer, clock.instant()),
                    "the link certificate never takes a new pin back to the old root");
            assertEquals(Optional.empty(), RootAdoption.newerRoot(oldRoot,
                    new RootAdoption.Offer(List.of(newRoot), List.of()), clock.instant()),
                    "an announced root without a cross certificate is ignored");
            assertEquals(Optional.empty(), RootAdoption.newerRoot(oldRoot,
                    new RootAdoption.Offer(List.of(other.root()), rollover), clock.instant()),
                    "a foreign root is not vouched for by this site's cross certificate");
            assertEquals(Optional.empty(), RootAdoption.newerRoot(other.root(), offer, clock.instant()),
                    "a cross certificate from another root vouches for nothing here");

            // a second rollover (later) is followed one vouched step at a time
            clock.advance(java.time.Duration.ofDays(30));
            site.ca().rotateRoot(null, null);
            X509Certificate third = site.root();
            List<X509Certificate> allRollover = new ArrayList<>();
            for (SiteCa.RootState r : site.ca().rootGenerations()) {
                if (r.crossCertificate() != null) {
                    allRollover.add(r.crossCertificate());
                    allRollover.add(r.linkCertificate());
                }
            }
            assertEquals(Optional.of(third), RootAdoption.newerRoot(oldRoot,
                    new RootAdoption.Offer(List.of(newRoot, third), allRollover), clock.instant()));
        }
    }

    @Test
    void anAdoptedRootIsStoredWithTheFormerRootKeptUntilItExpires() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestPki site = TestPki.create(tmp.resolve("site"), clock)) {
            X509Certificate oldRoot = site.root();
            var device = site.issueDevice("pump-1");
            site.ca().rotateRoot(null, null);
            X509Certificate newRoot = site.root();
            DeviceState state = new DeviceState("pump-1", "spiffe://site.local/device/pump-1", "site.local",
                    device.chain().subList(0, 1), oldRoot, URI.create("https://gw:8443"), URI.create("https://gw:8444"),
                    new KeyReference("pkcs12", "key-1"), null, clock.instant(), null);
            DeviceState adopted = state.withAdoptedRoot(newRoot, clock.instant());
            assertEquals(newRoot, adopted.root());
            assertEquals(List.of(newRoot, oldRoot), adopted.roots(clock.instant()));

            DeviceDirectory dir = new DeviceDirectory(tmp.resolve("device"));
            dir.commit(adopted);
            DeviceState loaded = dir.load();
            assertEquals(newRoot, loaded.root());
            assertEquals(List.of(oldRoot), loaded.formerRoots());
            assertEquals(List.of(newRoot), loaded.roots(oldRoot.getNotAfter().toInstant().plusSeconds(1)),
                    "a former root is no longer trusted once it expired");
            assertTrue(dir.load().renewed(loaded.chain(), loaded.key(), clock.instant()).formerRoots()
                    .contains(oldRoot), "renewal keeps the former root");
        }
    }
}
