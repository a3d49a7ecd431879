package dev.siteward.device;

import dev.siteward.device.keys.KeyReference;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.util.List;

/** A device enrolled (in a directory, with a PKCS#12 key) by the in-code test CA, without any gateway. */
final class TestDevices {

    private TestDevices() {
    }

    static DeviceIdentity enrolled(TestPki pki, DeviceDirectory dir, String deviceId) throws DeviceException {
        TestIdentity issued = pki.issueDevice(deviceId);
        List<X509Certificate> chain = issued.chain().subList(0, 2);
        Pkcs12DeviceKeyStore keys = new Pkcs12DeviceKeyStore(dir.keysDir(), pki.clock());
        KeyReference ref = keys.store(issued.keyPair(), chain);
        String td = pki.ca().trustDomain();
        DeviceState state = new DeviceState(deviceId, SpiffeId.device(td, deviceId).toString(), td, chain,
                pki.root(), URI.create("https://localhost:8443/"), URI.create("https://localhost:9443/"), ref, null,
                pki.clock().instant(), null);
        dir.commit(state);
        return new DeviceIdentity(state, issued.privateKey());
    }

    /** Issues a device certificate from a CSR as the gateway's simplereenroll would: leaf, then issuing CA. */
    static List<X509Certificate> issue(TestPki pki, byte[] csr, String deviceId) {
        try {
            IssuedCertificate c = pki.ca().issue(IssueRequest.device(csr, deviceId));
            return List.of(c.certificate(), c.caChain().get(0));
        } catch (PkiException e) {
            throw new IllegalStateException(e);
        }
    }
}
