package dev.siteward.device.keys;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.csr.CsrValidator;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.net.URI;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;

/**
 * The PKCS#11 half of {@link Pkcs11DeviceKeyStoreTest}, run in a child JVM whose environment holds SOFTHSM2_CONF
 * and SITEWARD_PKCS11_PIN. Prints {@code KEY value} lines.
 * <ul>
 *   <li>{@code enroll CONFIG WORKDIR}: generate a key in the token, make and check its CSR, have an in-code CA
 *       issue it, store it in the token and commit a device directory in WORKDIR/device</li>
 *   <li>{@code use WORKDIR}: in a fresh JVM, load the identity from the directory and sign with the token key</li>
 * </ul>
 */
public final class SoftHsmDeviceMain {

    private SoftHsmDeviceMain() {
    }

    public static void main(String[] args) throws Exception {
        try {
            switch (args[0]) {
                case "enroll" -> enroll(Path.of(args[1]), Path.of(args[2]));
                case "use" -> use(Path.of(args[1]));
                default -> throw new IllegalArgumentException(args[0]);
            }
        } catch (DeviceException e) {
            System.out.println("error " + e.reason().code());
            System.out.println("message " + e.getMessage());
        }
    }

    static void enroll(Path config, Path work) throws Exception {
        Pkcs11DeviceKeyStore store = new Pkcs11DeviceKeyStore(config, Pkcs11DeviceKeyStore.pin(null));
        KeyPair key = store.generate();
        System.out.println("extractable " + (key.getPrivate().getEncoded() != null));
        byte[] csr = CertificationRequests.create(key, "pump-11", store.signatureProvider());
        CsrValidator.validate(csr);
        System.out.println("csr valid");
        try (TestPki pki = TestPki.create(work.resolve("ca"), MutableClock.atSystemTime())) {
            List<X509Certificate> chain = pki.issue(key, IssueRequest.device(csr, "pump-11")).chain().subList(0, 2);
            KeyReference ref = store.store(key, chain);
            System.out.println("label " + ref.name());
            String td = pki.ca().trustDomain();
            DeviceDirectory dir = new DeviceDirectory(work.resolve("device"));
            dir.commit(new DeviceState("pump-11", SpiffeId.device(td, "pump-11").toString(), td, chain, pki.root(),
                    URI.create("https://localhost:8443/"), URI.create("https://localhost:9443/"), ref, store.config(),
                    pki.clock().instant(), null));
        }
    }

    static void use(Path work) throws Exception {
        DeviceIdentity id = DeviceIdentity.load(new DeviceDirectory(work.resolve("device")), null, Clock.systemUTC());
        System.out.println("keytype " + id.state().key().type());
        System.out.println("extractable " + (id.privateKey().getEncoded() != null));
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(id.privateKey());
        s.update("hello".getBytes());
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(id.certificate().getPublicKey());
        v.update("hello".getBytes());
        System.out.println("signature " + (v.verify(sig) ? "verified" : "BAD"));
    }
}
