package dev.siteward.gateway.authorization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyBundlesTest {

    @TempDir
    Path tmp;

    @Test
    void aSignedBundleVerifiesAndAChangedExpiryDoesNot() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestBundles bundles = new TestBundles(tmp, clock)) {
            Path b = bundles.signed(tmp.resolve("b"), 3, Duration.ofDays(1));
            PolicyBundles.VerifiedBundle v = PolicyBundles.verify(PolicyBundles.read(b), bundles.roots(),
                    clock.instant());
            assertEquals(3, v.metadata().version());
            assertTrue(v.digest().startsWith("sha256:"));
            assertEquals(3, v.files().files().size());

            Path meta = b.resolve(PolicyBundleMetadata.FILE_NAME);
            Files.writeString(meta, Files.readString(meta).replaceAll("expires: \"\\d{4}", "expires: \"2099"));
            BundleException e = assertThrows(BundleException.class, () -> PolicyBundles.verify(
                    PolicyBundles.read(b), bundles.roots(), clock.instant()));
            assertEquals("modelsig.digest_mismatch", e.code());
        }
    }

    @Test
    void aFolderSignedWithoutMetadataIsNotAPolicyBundle() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestBundles bundles = new TestBundles(tmp, clock)) {
            Path b = bundles.signed(tmp.resolve("b"), 1, Duration.ofDays(1));
            Files.delete(b.resolve(PolicyBundleMetadata.FILE_NAME));
            bundles.sign(b);
            assertEquals(BundleException.Reason.METADATA_MISSING, assertThrows(BundleException.class, () ->
                    PolicyBundles.verify(PolicyBundles.read(b), bundles.roots(), clock.instant())).reason());
        }
    }

    @Test
    void symbolicLinksInABundleAreRefused() throws Exception {
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(tmp.resolve("outside.yaml"), "schemaVersion: 1\nrules: []\n");
        Files.createSymbolicLink(b.resolve("valves.yaml"), tmp.resolve("outside.yaml"));
        BundleException e = assertThrows(BundleException.class, () -> PolicyBundles.read(b));
        assertEquals(BundleException.Reason.UNREADABLE, e.reason());
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void aWrittenCopyHoldsExactlyTheVerifiedFiles() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestBundles bundles = new TestBundles(tmp, clock)) {
            Path b = bundles.signed(tmp.resolve("b"), 1, Duration.ofDays(1));
            PolicyBundles.BundleFiles files = PolicyBundles.read(b);
            Path copy = tmp.resolve("copy");
            PolicyBundles.write(files, copy);
            PolicyBundles.verify(PolicyBundles.read(copy), bundles.roots(), clock.instant());
            assertEquals(1, PolicyBundles.loadAndTest(copy).rules().size());
        }
    }
}
