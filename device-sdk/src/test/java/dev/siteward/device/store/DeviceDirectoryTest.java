package dev.siteward.device.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceException;
import dev.siteward.device.keys.KeyReference;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceDirectoryTest {

    @TempDir
    static Path ca;
    @TempDir
    Path tmp;
    static TestPki pki;

    @BeforeAll
    static void pki() {
        pki = TestPki.create(ca.resolve("ca"), MutableClock.atDefaultStart());
    }

    @AfterAll
    static void close() {
        pki.close();
    }

    private static DeviceState state(String id, String keyName) {
        TestIdentity issued = pki.issueDevice(id);
        String td = pki.ca().trustDomain();
        return new DeviceState(id, SpiffeId.device(td, id).toString(), td, issued.chain().subList(0, 2), pki.root(),
                URI.create("https://gw:8443/"), URI.create("https://gw:9443/"),
                new KeyReference(KeyReference.PKCS12, keyName), null, pki.clock().instant(), null);
    }

    @Test
    void aCommittedStateReadsBackTheSame() throws Exception {
        DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
        DeviceState s = state("pump-1", "k1");
        dir.commit(s);
        DeviceState read = dir.load();
        assertEquals(s.deviceId(), read.deviceId());
        assertEquals(s.chain(), read.chain());
        assertEquals(s.root(), read.root());
        assertEquals(s.deviceUrl(), read.deviceUrl());
        assertEquals(s.key(), read.key());
    }

    @Test
    void aWriteThatFailsHalfwayLeavesTheOldStateReadable() throws Exception {
        Path path = tmp.resolve("dev");
        new DeviceDirectory(path).commit(state("pump-2", "old"));
        // a crash after half the new content reached the temporary file, before the rename
        DeviceDirectory crashing = new DeviceDirectory(path, (target, content) -> {
            Path temp = target.resolveSibling("." + target.getFileName() + ".crash.tmp");
            Files.write(temp, Arrays.copyOf(content, content.length / 2), StandardOpenOption.CREATE_NEW);
            throw new IOException("power lost");
        });
        DeviceState renewed = state("pump-2", "new");
        DeviceException e = assertThrows(DeviceException.class, () -> crashing.commit(renewed));
        assertEquals(DeviceException.Reason.STORAGE, e.reason());

        DeviceState after = new DeviceDirectory(path).load();
        assertEquals("old", after.key().name());
        assertTrue(Files.exists(path.resolve(".device.json.crash.tmp")));
    }

    @Test
    void theStateFileIsOwnerOnlyInAnOwnerOnlyDirectory() throws Exception {
        DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
        dir.commit(state("pump-3", "k"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.stateFile())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.path())));
    }

    @Test
    void anEmptyDirectoryIsReportedAsNotEnrolled() {
        DeviceException e = assertThrows(DeviceException.class, () -> new DeviceDirectory(tmp).load());
        assertEquals(DeviceException.Reason.NOT_ENROLLED, e.reason());
    }

    @Test
    void aStateWhoseRootDoesNotMatchItsFingerprintIsRefused() throws Exception {
        DeviceDirectory dir = new DeviceDirectory(tmp.resolve("dev"));
        dir.commit(state("pump-4", "k"));
        String json = Files.readString(dir.stateFile());
        String fp = json.replaceAll("(?s).*\"rootFingerprint\" : \"(sha256:[0-9a-f]+)\".*", "$1");
        Files.writeString(dir.stateFile(), json.replace(fp, "sha256:" + "0".repeat(64)));
        DeviceException e = assertThrows(DeviceException.class, dir::load);
        assertEquals(DeviceException.Reason.STORAGE, e.reason());
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsBadInputNotAStorageFailure() throws Exception {
        Path file = Files.writeString(tmp.resolve("siteward-device"), "#!/usr/bin/env bash\n");
        DeviceDirectory dir = new DeviceDirectory(file);
        assertEquals(DeviceException.Reason.BAD_INPUT, assertThrows(DeviceException.class, dir::load).reason());
        assertEquals(DeviceException.Reason.BAD_INPUT, assertThrows(DeviceException.class, dir::create).reason());
    }

    @Test
    void keyReferencesAcceptOnlyKnownTypesAndPlainNames() {
        assertThrows(IllegalArgumentException.class, () -> new KeyReference("jks", "k"));
        assertThrows(IllegalArgumentException.class, () -> new KeyReference(KeyReference.PKCS12, "../etc/passwd"));
        assertTrue(List.of(KeyReference.PKCS12, KeyReference.PKCS11).contains(new KeyReference("pkcs11", "a").type()));
    }
}
