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

    /** Stores a blob on disk as the model repository does (content-addressed); returns its digest. */
    private String blobOnDisk(byte[] content) throws Exception {
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(content));
        Path blobs = Files.createDirectories(data.resolve(BackupService.BLOB_DIR));
        Files.write(blobs.resolve(sha), content);
        return sha;
    }

    /** Rows of one published model version with one file and its signature bundle, as the repository writes them. */
    private void publishedRows(String model, String fileSha, long fileSize, String sigSha, long sigSize)
            throws Exception {
        store.inTransaction(c -> {
            java.sql.Timestamp now = java.sql.Timestamp.from(clock.instant());
            try (var ps = c.prepareStatement("INSERT INTO models (name, created_at) VALUES (?, ?)")) {
                ps.setString(1, model);
                ps.setTimestamp(2, now);
                ps.executeUpdate();
            }
            try (var ps = c.prepareStatement("INSERT INTO model_versions (model_name, version, signature_sha256, "
                    + "signature_size, single_file, signed_name, root_digest, publisher, signer, published_at) "
                    + "VALUES (?, 1, ?, ?, TRUE, ?, ?, 'vision', 'CN=pub', ?)")) {
                ps.setString(1, model);
                ps.setString(2, sigSha);
                ps.setLong(3, sigSize);
                ps.setString(4, model);
                ps.setString(5, fileSha);
                ps.setTimestamp(6, now);
                ps.executeUpdate();
            }
            try (var ps = c.prepareStatement("INSERT INTO model_files (model_name, version, position, path, size, "
                    + "sha256) VALUES (?, 1, 0, 'model.onnx', ?, ?)")) {
                ps.setString(1, model);
                ps.setLong(2, fileSize);
                ps.setString(3, fileSha);
                ps.executeUpdate();
            }
            for (Object[] b : new Object[][] {{fileSha, fileSize}, {sigSha, sigSize}}) {
                try (var ps = c.prepareStatement("INSERT INTO model_blobs (sha256, size, stored_at) "
                        + "VALUES (?, ?, ?)")) {
                    ps.setString(1, (String) b[0]);
                    ps.setLong(2, (Long) b[1]);
                    ps.setTimestamp(3, now);
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    @Test
    void theBackupHoldsExactlyTheModelBlobsTheDatabaseSnapshotRefersToAndTheyRestoreIntact() throws Exception {
        byte[] model = "onnx model bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] bundle = "{\"signature bundle\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String modelSha = blobOnDisk(model);
        String sigSha = blobOnDisk(bundle);
        publishedRows("vision/detector", modelSha, model.length, sigSha, bundle.length);
        // a blob whose rows are not in the snapshot (an upload stored after it, or left behind): not backed up
        String later = blobOnDisk("stored after the snapshot".getBytes(java.nio.charset.StandardCharsets.UTF_8));

        byte[] backup = backup();
        BackupManifest manifest = BackupService.verify(new ByteArrayInputStream(backup), PASS);
        java.util.Set<String> paths = new java.util.HashSet<>();
        manifest.files().forEach(f -> paths.add(f.path()));
        assertTrue(paths.contains(BackupService.BLOB_DIR + "/" + modelSha), paths.toString());
        assertTrue(paths.contains(BackupService.BLOB_DIR + "/" + sigSha), paths.toString());
        assertFalse(paths.contains(BackupService.BLOB_DIR + "/" + later), "a blob the snapshot does not know");
        assertTrue(manifest.files().stream().filter(f -> f.path().equals(BackupService.BLOB_DIR + "/" + modelSha))
                .allMatch(f -> f.sha256().equals(modelSha)), "the blob's manifest digest is its name");

        Path restored = dir.resolve("restored");
        BackupService.restore(new ByteArrayInputStream(backup), PASS, restored, false, clock);
        assertArrayEquals(model, Files.readAllBytes(restored.resolve(BackupService.BLOB_DIR).resolve(modelSha)));
        assertArrayEquals(bundle, Files.readAllBytes(restored.resolve(BackupService.BLOB_DIR).resolve(sigSha)));
        assertFalse(Files.exists(restored.resolve(BackupService.BLOB_DIR).resolve(later)));
        assertEquals(Map.of(modelSha, (long) model.length, sigSha, (long) bundle.length),
                BackupService.referencedBlobs(snapshotZip()));
    }

    /** A database snapshot of the live store, as a backup takes it. */
    private Path snapshotZip() throws Exception {
        Path zip = dir.resolve("snapshot-db.zip");
        store.inTransaction(c -> {
            try (var ps = c.prepareStatement("BACKUP TO ?")) {
                ps.setString(1, zip.toString());
                ps.execute();
            }
            return null;
        });
        return zip;
    }

    @Test
    void aBlobTheSnapshotRefersToThatIsMissingOrChangedRefusesTheBackupNamingItAndLeavesNothing() throws Exception {
        byte[] model = "onnx model bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String modelSha = blobOnDisk(model);
        String sigSha = blobOnDisk("bundle".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        publishedRows("vision/detector", modelSha, model.length, sigSha, 6);

        Path blob = data.resolve(BackupService.BLOB_DIR).resolve(modelSha);
        Files.delete(blob); // deleted between the database snapshot and the copy, or lost
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GatewayException missing = assertThrows(GatewayException.class,
                () -> new BackupService(data, store, pki.ca(), clock).backup(out, PASS));
        assertEquals("request.conflict", missing.reason().code());
        assertTrue(missing.getMessage().contains(modelSha) && missing.getMessage().contains("missing"),
                missing.getMessage());
        assertEquals(0, out.size(), "nothing is written");

        Files.write(blob, "changed bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        GatewayException changed = assertThrows(GatewayException.class,
                () -> new BackupService(data, store, pki.ca(), clock).backup(out, PASS));
        assertTrue(changed.getMessage().contains(modelSha) && changed.getMessage().contains("digest"),
                changed.getMessage());
        assertEquals(0, out.size(), "nothing is written");
        try (var files = Files.list(data)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith(".siteward-backup-")),
                    "no staging directory left");
        }
    }
}
