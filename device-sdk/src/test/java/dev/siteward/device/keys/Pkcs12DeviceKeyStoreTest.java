package dev.siteward.device.keys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.siteward.device.DeviceException;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.csr.CsrValidator;
import dev.siteward.pki.csr.ValidatedCsr;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Pkcs12DeviceKeyStoreTest {

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

    @Test
    void theKeyFileAndItsPasswordFileAreCreatedWithMode0600() throws Exception {
        Pkcs12DeviceKeyStore store = new Pkcs12DeviceKeyStore(tmp.resolve("keys"), pki.clock());
        TestIdentity id = pki.issueDevice("pump-1");
        KeyReference ref = store.store(id.keyPair(), id.chain().subList(0, 2));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                store.keyFile(ref.name()))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                store.passwordFile(ref.name()))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("keys"))));
    }

    @Test
    void aStoredKeyLoadsBackAndSignsForItsCertificate() throws Exception {
        Pkcs12DeviceKeyStore store = new Pkcs12DeviceKeyStore(tmp.resolve("keys"), pki.clock());
        KeyPair generated = store.generate();
        List<X509Certificate> chain = pki.issue(generated, dev.siteward.pki.IssueRequest.device(
                CertificationRequests.create(generated, "pump-2", null), "pump-2")).chain().subList(0, 2);
        KeyReference ref = store.store(generated, chain);

        PrivateKey loaded = store.load(ref);
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(loaded);
        s.update(new byte[] {1, 2, 3});
        byte[] sig = s.sign();
        s.initVerify(chain.get(0).getPublicKey());
        s.update(new byte[] {1, 2, 3});
        assertEquals(true, s.verify(sig));
    }

    @Test
    void deletingAKeyRemovesBothFilesAndLoadingItThenFails() throws Exception {
        Pkcs12DeviceKeyStore store = new Pkcs12DeviceKeyStore(tmp.resolve("keys"), pki.clock());
        TestIdentity id = pki.issueDevice("pump-3");
        KeyReference ref = store.store(id.keyPair(), id.chain().subList(0, 2));
        store.delete(ref);
        assertFalse(Files.exists(store.keyFile(ref.name())));
        assertFalse(Files.exists(store.passwordFile(ref.name())));
        assertThrows(DeviceException.class, () -> store.load(ref));
    }

    @Test
    void theCertificationRequestPassesTheSiteCsrChecksForItsKey() throws PkiException, DeviceException {
        KeyPair key = new Pkcs12DeviceKeyStore(tmp, pki.clock()).generate();
        ValidatedCsr csr = CsrValidator.validate(CertificationRequests.create(key, "pump-4", null));
        assertArrayEquals(key.getPublic().getEncoded(), csr.publicKey().getEncoded());
    }
}
