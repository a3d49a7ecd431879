package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.RenewalClient;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.device.trust.RootFingerprint;
import dev.siteward.pki.PemCodec;
import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Root rollover with the real gateway: {@code siteward ca rotate-root} against the running gateway; a device
 * enrolled before (pinned to the old root) keeps its mTLS connection working, renews onto the new issuing CA and
 * adopts the new root; devices enrolled after it, with the new or the old pin, work; curl with only the old root as
 * CA file still reaches the device listener (the server chain carries the cross certificate); retire-root ends
 * the overlap.
 */
class RootRolloverIT {

    static final Clock CLOCK = Clock.systemUTC();
    static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "root rollover passphrase");

    @TempDir
    Path work;

    private DeviceIdentity enroll(GatewayProcess gw, String id, String pin) throws Exception {
        DeviceDirectory dir = new DeviceDirectory(work.resolve(id));
        return new EnrollmentClient(CLOCK, RetryPolicy.once()).enroll(
                EnrollmentRequest.of(gw.enrollUrl().toString(), gw.token(id, null), pin), dir,
                new Pkcs12DeviceKeyStore(dir.keysDir(), CLOCK));
    }

    private Result curl(GatewayProcess gw, Path caFile, String path) {
        Path admin = gw.dataDir().resolve("admin");
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-f", "--cacert", caFile.toString(),
                "--cert", admin.resolve("admin.pem").toString(), "--key", admin.resolve("admin-key.pem").toString(),
                gw.deviceUrl() + path));
        return Processes.run(work, Map.of(), cmd);
    }

    @Test
    void aDevicePinnedToTheOldRootRenewsAcrossTheRootRolloverAdoptsTheNewRootAndNewDevicesWork() throws Exception {
        Tools.require("curl", "curl");
        try (GatewayProcess gw = GatewayProcess.start(work.resolve("gateway-data"), ENV)) {
            String oldPin = gw.rootFingerprint();
            Path oldRootPem = Files.copy(gw.dataDir().resolve("ca/root.pem"), work.resolve("old-root.pem"));
            X509Certificate oldRoot = PemCodec.parseCertificates(Files.readString(oldRootPem)).get(0);

            DeviceIdentity before = enroll(gw, "pump-1", oldPin);
            DeviceHttpClient http = new DeviceHttpClient(before, CLOCK);
            assertEquals("pump-1", http.whoami().id());

            Result rotate = gw.cli("ca", "rotate-root");
            assertEquals(0, rotate.exitCode(), rotate.both());
            assertTrue(rotate.stdout().contains("root is now generation 2"), rotate.stdout());
            String newPin = gw.rootFingerprint();
            assertNotEquals(oldPin, newPin);
            Path newRootPem = Files.writeString(work.resolve("new-root.pem"),
                    Files.readString(gw.dataDir().resolve("ca/root-2.pem")));

            // the old-pin device keeps connecting (new connections see the new server chain with the cross cert)
            DeviceHttpClient fresh = new DeviceHttpClient(before, CLOCK);
            assertEquals("pump-1", fresh.whoami().id());
            assertEquals("pump-1", http.whoami().id());

            // curl with only the old root as CA file reaches the device listener; so does the new root
            Result oldCurl = curl(gw, oldRootPem, "/v1/admin/crl");
            assertEquals(0, oldCurl.exitCode(), "curl --cacert old-root.pem: " + oldCurl.both());
            Result newCurl = curl(gw, newRootPem, "/v1/admin/crl");
            assertEquals(0, newCurl.exitCode(), "curl --cacert new-root.pem: " + newCurl.both());

            // renewal: onto the new issuing CA, with the new root adopted and the old one kept
            DeviceDirectory dir = new DeviceDirectory(work.resolve("pump-1"));
            DeviceIdentity renewed = RenewalClient.over(http, dir, new Pkcs12DeviceKeyStore(dir.keysDir(), CLOCK),
                    CLOCK, RetryPolicy.once()).renew();
            assertTrue(renewed.certificate().getIssuerX500Principal().getName().contains("Issuing CA 2"),
                    renewed.certificate().getIssuerX500Principal().getName());
            DeviceState state = dir.load();
            assertTrue(RootFingerprint.parse(newPin).matches(state.root()), "the device adopted the new root");
            assertEquals(List.of(oldRoot), state.formerRoots(), "and keeps the old one through the overlap");
            assertEquals("pump-1", http.whoami().id());
            assertEquals(renewed.certificate().getSerialNumber().toString(16), http.whoami().serial());
            assertEquals("pump-1", new DeviceHttpClient(renewed, CLOCK).whoami().id());

            // enrolled after the rollover: with the new pin, and with the old pin (adopting the new root at once)
            DeviceIdentity after = enroll(gw, "pump-2", newPin);
            assertTrue(after.certificate().getIssuerX500Principal().getName().contains("Issuing CA 2"));
            assertEquals("pump-2", new DeviceHttpClient(after, CLOCK).whoami().id());
            DeviceIdentity lateOldPin = enroll(gw, "pump-3", oldPin);
            assertTrue(RootFingerprint.parse(newPin).matches(lateOldPin.root()), "vouched for by the cross cert");
            assertEquals("pump-3", new DeviceHttpClient(lateOldPin, CLOCK).whoami().id());

            Result show = gw.cli("ca", "show");
            assertEquals(0, show.exitCode(), show.both());
            assertTrue(show.stdout().contains("cross cert     root 2 signed by root 1"), show.stdout());
            assertTrue(show.stdout().contains("earlier root   1"), show.stdout());

            // the overlap ends only when asked (certificates under the old root are still valid) or forced
            Result refused = gw.cli("ca", "retire-root");
            assertEquals(2, refused.exitCode(), refused.both());
            assertTrue(refused.stderr().contains("--force"), refused.both());
            Result retired = gw.cli("ca", "retire-root", "--force");
            assertEquals(0, retired.exitCode(), retired.both());
            assertEquals("pump-1", new DeviceHttpClient(renewed, CLOCK)
                    .whoami().id(), "a device on the new root is unaffected");
            Result oldOnly = curl(gw, oldRootPem, "/v1/admin/crl");
            assertNotEquals(0, oldOnly.exitCode(), "after retirement the old root alone no longer reaches it");
            Result afterShow = gw.cli("ca", "show");
            assertTrue(afterShow.stdout().contains("retired root   1"), afterShow.both());
        }
    }
}
