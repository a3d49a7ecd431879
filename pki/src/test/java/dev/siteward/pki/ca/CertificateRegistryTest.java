package dev.siteward.pki.ca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestCsr;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The issued-certificate journal: durable, reopened intact, torn tail cut off, concurrent writers all recorded. */
class CertificateRegistryTest {

    @TempDir
    static Path tmp;
    static TestPki pki;

    @BeforeAll
    static void createCa() {
        pki = TestPki.create(tmp.resolve("site"), MutableClock.atDefaultStart());
    }

    @AfterAll
    static void closeCa() {
        pki.close();
    }

    private static RegistryEntry entry(long serial, String name) {
        Instant now = MutableClock.DEFAULT_START;
        return new RegistryEntry(BigInteger.valueOf(serial), CertificateProfile.DEVICE, name, null, now,
                now.plusSeconds(3600), new byte[] {1, 2, (byte) serial}, null, null);
    }

    @Test
    void everythingIssuedIsFoundAfterReopening() throws Exception {
        List<TestIdentity> issued = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            issued.add(pki.issueDevice("reg-dev-" + i));
        }
        issued.add(pki.issue(CertificateProfile.SERVICE, "reg-svc"));
        issued.add(pki.issueServer("reg.site.local", "10.1.2.3"));
        KeyPair admin = dev.siteward.pki.testkit.TestKeys.p256();
        IssuedCertificate adminCert = pki.ca().issue(new IssueRequest(TestCsr.forKey(admin).der(),
                CertificateProfile.ADMIN, "reg-admin", null, null, null, "auditor"));
        pki.ca().revoke(issued.get(3).serial(), RevocationReason.KEY_COMPROMISE);
        int size = pki.ca().registry().size();

        SiteCa reopened = pki.reopen();

        assertEquals(size, reopened.registry().size());
        for (TestIdentity id : issued) {
            RegistryEntry e = reopened.registry().find(id.serial()).orElseThrow();
            assertArrayEquals(id.certificate().getEncoded(), e.der());
            assertEquals(id.certificate().getNotAfter().toInstant(), e.notAfter());
            assertEquals(id.certificate().getNotBefore().toInstant(), e.notBefore());
        }
        assertEquals(RevocationReason.KEY_COMPROMISE,
                reopened.registry().find(issued.get(3).serial()).orElseThrow().reason());
        assertEquals("auditor", reopened.registry().find(adminCert.certificate().getSerialNumber()).orElseThrow()
                .role());
        assertEquals(1, reopened.registry().findByName(CertificateProfile.DEVICE, "reg-dev-5").size());
        RegistryEntry root = reopened.registry().find(reopened.root().getSerialNumber()).orElseThrow();
        assertNull(root.profile(), "the CA's own certificates are recorded too");
        assertTrue(reopened.registry().serialTaken(reopened.issuingCertificate().getSerialNumber()));
    }

    @Test
    void journalFileIsOwnerOnly() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(pki.ca().directory().resolve("registry.log"))));
    }

    @Test
    void tornLastLineIsCutOffWhenOpened(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("registry.log");
        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            reg.record(entry(1, "a"));
            reg.record(entry(2, "b"));
            reg.record(entry(3, "c"));
        }
        long goodLength = content(file).length;
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("{\"type\":\"issued\",\"serial\":\"4\",\"prof"
                    .getBytes(StandardCharsets.UTF_8)), goodLength);
        }

        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            assertEquals(3, reg.size());
            assertFalse(reg.find(BigInteger.valueOf(4)).isPresent());
            assertEquals(goodLength, content(file).length, "the torn tail is gone from the file");
            reg.record(entry(5, "e"));
        }
        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            assertEquals(4, reg.size(), "a record after the cut is intact");
            assertTrue(reg.find(BigInteger.valueOf(5)).isPresent());
        }
    }

    @Test
    void corruptCompleteLineFailsClosedInsteadOfBeingSkipped(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("registry.log");
        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            reg.record(entry(1, "a"));
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("not json\n".getBytes(StandardCharsets.UTF_8)), content(file).length);
        }
        PkiException e = assertThrows(PkiException.class, () -> JournalCertificateRegistry.open(file));
        assertEquals(Reason.STORAGE, e.reason());
    }

    @Test
    void revocationsAreJournalledAndSerialsAreReservedUntilRecorded(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("registry.log");
        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            reg.record(entry(7, "g"));
            assertTrue(reg.reserveSerial(BigInteger.valueOf(8)));
            assertFalse(reg.reserveSerial(BigInteger.valueOf(8)), "reserved once");
            assertFalse(reg.reserveSerial(BigInteger.valueOf(7)), "issued serials cannot be reserved");
            reg.releaseSerial(BigInteger.valueOf(8));
            assertFalse(reg.serialTaken(BigInteger.valueOf(8)));
            reg.revoke(BigInteger.valueOf(7), RevocationReason.SUPERSEDED, MutableClock.DEFAULT_START);
        }
        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            assertEquals(List.of(BigInteger.valueOf(7)), reg.revoked().stream().map(RegistryEntry::serial).toList());
            assertEquals(MutableClock.DEFAULT_START, reg.find(BigInteger.valueOf(7)).orElseThrow().revokedAt());
        }
    }

    @Test
    void concurrentIssuanceFromSeveralThreadsIsAllRecordedWithUniqueSerials() throws Exception {
        int threads = 4;
        int perThread = 25;
        List<byte[]> csrs = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            csrs.add(TestCsr.p256Der());
        }
        int before = pki.ca().registry().size();
        Set<BigInteger> serials = Collections.synchronizedSet(new HashSet<>());
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        IssuedCertificate c = pki.ca().issue(IssueRequest.device(csrs.get(thread),
                                "conc-" + thread + "-" + i));
                        assertTrue(serials.add(c.certificate().getSerialNumber()), "unique serial");
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * perThread, serials.size());
        assertEquals(before + threads * perThread, pki.ca().registry().size());

        SiteCa reopened = pki.reopen();
        for (BigInteger s : serials) {
            assertTrue(reopened.registry().find(s).isPresent(), "recorded durably: " + s.toString(16));
        }
        long lines = new String(content(reopened.directory().resolve("registry.log")), StandardCharsets.UTF_8)
                .lines().count();
        assertEquals(reopened.registry().size() + reopened.registry().revoked().size(), lines,
                "one journal line per issuance and per revocation, none lost or torn");
    }

    @Test
    void concurrentJournalWritersShareFsyncsAndLoseNothing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("registry.log");
        int threads = 8;
        int perThread = 50;
        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            reg.record(entry(1000L * (thread + 1) + i, "w" + thread));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(threads * perThread, reg.size());
        }
        try (JournalCertificateRegistry reg = JournalCertificateRegistry.open(file)) {
            assertEquals(threads * perThread, reg.size());
            assertEquals(perThread, reg.findByName(CertificateProfile.DEVICE, "w3").size());
        }
        assertEquals(threads * perThread, new String(content(file), StandardCharsets.UTF_8).lines().count());
    }

    /** The journal's content: the file up to its first NUL (the rest is space allocated ahead). */
    static byte[] content(Path file) throws java.io.IOException {
        byte[] all = Files.readAllBytes(file);
        int n = 0;
        while (n < all.length && all[n] != 0) {
            n++;
        }
        return java.util.Arrays.copyOf(all, n);
    }
}
