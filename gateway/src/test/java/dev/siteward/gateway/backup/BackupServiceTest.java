package dev.siteward.gateway.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.enrollment.EnrollmentTokens;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.time.TimeRecord;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backup of a live data dir and restore on a fresh one: devices, CA, tokens, digests, older backups. */
class BackupServiceTest {

    static final char[] PASS = "backup passphrase 1".toCharArray();

    @TempDir
    Path dir;
    Path data;
    MutableClock clock;
    TestPki pki;
    GatewayStore store;
    DeviceRegistry devices;
    EnrollmentTokens tokens;
    KeyPair tokenKey;

    @BeforeEach
    void setUp() throws Exception {
        clock = MutableClock.atSystemTime();
        data = dir.resolve("data");
        pki = TestPki.create(data, clock);
        store = GatewayStore.openEmbedded(data);
        devices = new DeviceRegistry(store, pki.ca().registry(), clock);
        tokenKey = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Files.createDirectories(data.resolve("gateway"));
        Files.writeString(data.resolve("gateway/token-key.pem"), KeyMaterial.toPem(tokenKey.getPrivate()));
        Files.setPosixFilePermissions(data.resolve("gateway/token-key.pem"),
                PosixFilePermissions.fromString("rw-------"));
        tokens = new EnrollmentTokens(store, clock, (ECPrivateKey) tokenKey.getPrivate(),
                (ECPublicKey) tokenKey.getPublic(), "k1", Certificates.fingerprint(pki.root()));
        new TimeRecord(clock.instant(), null, null, null).write(data);
        pki.issueDevice("cam-1");
        store.inTransaction(c -> {
            devices.recordEnrollment(c, "cam-1", Map.of("class", "camera"), null, null);
            return null;
        });
    }

    @AfterEach
    void tearDown() {
        store.close();
        pki.close();
    }

    private byte[] backup() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new BackupService(data, store, pki.ca(), clock).backup(out, PASS);
        return out.toByteArray();
    }

    @Test
    void aRestoredDataDirHoldsTheSameSiteDevicesAndFilesAndVoidsUnusedTokens() throws Exception {
        String unused = tokens.create("cam-2", Map.of(), Duration.ofHours(1));
        byte[] backup = backup();
        BackupManifest manifest = BackupService.verify(new ByteArrayInputStream(backup), PASS);
        assertTrue(manifest.files().stream().anyMatch(f -> f.path().equals("ca/registry.log")));
        assertTrue(manifest.files().stream().anyMatch(f -> f.path().equals(BackupService.DB_ARCHIVE)));

        Path restored = dir.resolve("new-hardware/data");
        BackupService.RestoreReport report = BackupService.restore(new ByteArrayInputStream(backup), PASS, restored,
                false, clock);
        assertEquals(1, report.tokensVoided());
        assertArrayEquals(Files.readAllBytes(data.resolve("ca/root.pem")),
                Files.readAllBytes(restored.resolve("ca/root.pem")));
        assertFalse(Files.exists(restored.resolve("gateway/token-key.pem")), "the token key is replaced");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                restored.resolve("ca/issuing-key.pem"))));
        assertTrue(Files.exists(restored.resolve("gateway/restored.json")));
        try (SiteCa ca = SiteCa.open(restored, new CaSecrets(TestPki.DEFAULT_PASSPHRASE.toCharArray(), null),
                clock); GatewayStore s = GatewayStore.openEmbedded(restored)) {
            assertEquals(pki.ca().registry().size(), ca.registry().size());
            DeviceRegistry d = new DeviceRegistry(s, ca.registry(), clock);
            assertEquals(Map.of("class", "camera"), d.get("cam-1").labels());
            assertEquals(1, d.get("cam-1").certificates().size());
            // even with the old key, the token unused at backup time is spent after the restore
            EnrollmentTokens oldKey = new EnrollmentTokens(s, clock, (ECPrivateKey) tokenKey.getPrivate(),
                    (ECPublicKey) tokenKey.getPublic(), "k1", Certificates.fingerprint(ca.root()));
            var claims = oldKey.verify(unused);
            GatewayException used = assertThrows(GatewayException.class, () -> s.inTransaction(c ->
                    oldKey.consume(c, claims, "spki")));
            assertEquals("enrollment.token_used", used.reason().code());
        }
    }

    @Test
    void aChangedBackupIsRefusedAndChangesNothing() throws Exception {
        byte[] backup = backup();
        backup[backup.length / 2] ^= 0x40;
        Path restored = dir.resolve("target");
        assertThrows(BackupArchive.IntegrityException.class, () -> BackupService.restore(
                new ByteArrayInputStream(backup), PASS, restored, false, clock));
        assertFalse(Files.exists(restored) && Files.list(restored).findAny().isPresent());
        assertThrows(BackupArchive.IntegrityException.class, () -> BackupService.restore(
                new ByteArrayInputStream(backup()), "another passphrase".toCharArray(), restored, false, clock));
        assertTrue(Files.list(dir).noneMatch(p -> p.getFileName().toString().contains(".restore-")),
                "no staging left behind");
    }

    @Test
    void anOlderBackupOverANewerDataDirIsDetectedAndNeedsForce() throws Exception {
        byte[] old = backup();
        Path site = dir.resolve("site");
        BackupService.restore(new ByteArrayInputStream(old), PASS, site, false, clock);
        new TimeRecord(clock.instant().plus(Duration.ofDays(3)), null, null, null).write(site);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupService.restore(
                new ByteArrayInputStream(old), PASS, site, false, clock));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        BackupService.RestoreReport forced = BackupService.restore(new ByteArrayInputStream(old), PASS, site, true,
                clock);
        assertTrue(forced.olderThanTarget() != null && forced.olderThanTarget().contains("older"),
                String.valueOf(forced.olderThanTarget()));
        assertTrue(Files.list(dir).anyMatch(p -> p.getFileName().toString().startsWith("site.replaced-")),
                "the replaced data dir is kept");
    }

    @Test
    void aSiteOnPostgresqlIsRefusedWithGuidanceAndNothingIsWritten() throws Exception {
        dev.siteward.gateway.store.GatewayStore pg = dev.siteward.gateway.store.TestDatabases.open(
                dev.siteward.gateway.store.TestDatabases.Kind.POSTGRESQL, dir.resolve("pg-data"));
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            dev.siteward.gateway.GatewayException e = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.siteward.gateway.GatewayException.class,
                    () -> new BackupService(data, pg, pki.ca(), clock).backup(out, PASS));
            org.junit.jupiter.api.Assertions.assertEquals("request.conflict", e.reason().code());
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("pg_dump"), e.getMessage());
            org.junit.jupiter.api.Assertions.assertEquals(0, out.size());
            try (var files = Files.list(data)) {
                org.junit.jupiter.api.Assertions.assertTrue(files.noneMatch(f -> f.getFileName().toString()
                        .startsWith(".siteward-backup-")), "no staging directory left");
            }
        } finally {
            pg.close();
            dev.siteward.gateway.store.TestDatabases.drop(pg);
        }
    }
}
