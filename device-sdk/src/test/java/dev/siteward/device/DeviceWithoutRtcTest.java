package dev.siteward.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.siteward.device.grants.GrantRefusedException;
import dev.siteward.device.grants.GrantVerifier;
import dev.siteward.device.grants.UsedGrants;
import dev.siteward.device.time.DeviceClock;
import dev.siteward.device.trust.PinnedRootTrustManager;
import dev.siteward.device.trust.RootFingerprint;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device whose local clock says 1970 (no real-time clock) learns the gateway's time over TLS to its pinned root,
 * and then validates certificates and grants at that time.
 */
class DeviceWithoutRtcTest {

    private static final Instant NINETEEN_SEVENTY = Instant.parse("1970-01-01T00:00:10Z");
    private static final String VALVE = "valve-a-07";

    @TempDir
    static Path cas;

    @TempDir
    Path deviceDir;

    private static TestPki site;
    private static TestPki impostor;
    private static TestIdentity siteServer;
    private static TestIdentity impostorServer;
    private static TestIdentity grants;

    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);

    @BeforeAll
    static void pkis() {
        site = TestPki.create(cas.resolve("site"), MutableClock.atSystemTime());
        impostor = site.otherCa(cas.resolve("impostor"));
        siteServer = site.issueServer("localhost", "127.0.0.1");
        impostorServer = impostor.issueServer("localhost", "127.0.0.1");
        grants = site.issue(CertificateProfile.SERVICE, "grants");
    }

    @AfterAll
    static void close() {
        site.close();
        impostor.close();
    }

    /** A gateway's enrollment listener serving {@code /.well-known/siteward} with the site clock's time. */
    private static HttpsServer gateway(TestIdentity tls, boolean clockTrusted) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", tls.privateKey(), "pw".toCharArray(),
                tls.chain().subList(0, 2).toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "pw".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("localhost", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx));
        server.createContext("/.well-known/siteward", ex -> {
            Instant now = site.clock().instant();
            byte[] body = ("{\"trustDomain\":\"" + site.ca().trustDomain() + "\",\"time\":\"" + now
                    + "\",\"lastRecordedTime\":\"" + now.minusSeconds(30) + "\",\"clockTrusted\":" + clockTrusted
                    + "}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.createContext("/.well-known/est/cacerts", ex -> {
            byte[] body = dev.siteward.pki.est.EstCodec.base64(dev.siteward.pki.est.EstCodec.certsOnly(
                    List.of(site.ca().issuingCertificate(), site.root()))).getBytes(StandardCharsets.US_ASCII);
            ex.getResponseHeaders().set("Content-Type", dev.siteward.pki.est.EstCodec.CERTS_ONLY);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        return server;
    }

    private static URI url(HttpsServer server) {
        return URI.create("https://localhost:" + server.getAddress().getPort());
    }

    /** The device's clock: its local clock stuck in 1970, the test's monotonic counter. */
    private DeviceClock deviceClock(boolean noRtc) throws DeviceException {
        return DeviceClock.open(deviceDir, DeviceClock.Options.defaults().withNoRtc(noRtc)
                .withLocal(Clock.fixed(NINETEEN_SEVENTY, ZoneOffset.UTC), nanos::get));
    }

    private GatewayTimeClient timeClient(HttpsServer server) {
        return GatewayTimeClient.forRoot(url(server), site.root(), nanos::get);
    }

    /** GET /.well-known/siteward over the SDK's normal pinned trust at the device clock's time. */
    private static void pinnedGet(HttpsServer server, Clock clock) throws DeviceException {
        GatewayHttp.send(GatewayHttp.client(null, PinnedRootTrustManager.forRoot(site.root(), clock)),
                GatewayHttp.request(url(server), "/.well-known/siteward").GET().build());
    }

    private static String grant(Instant issued, Duration life) throws Exception {
        String td = site.ca().trustDomain();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer("spiffe://" + td + "/service/grants")
                .subject("spiffe://" + td + "/device/vc-01").audience(VALVE).claim("action", "valve.open")
                .claim("did", "d-1").jwtID(UUID.randomUUID().toString()).issueTime(Date.from(issued))
                .notBeforeTime(Date.from(issued)).expirationTime(Date.from(issued.plus(life))).build();
        List<Base64> x5c = new ArrayList<>();
        for (X509Certificate c : grants.chain().subList(0, 2)) {
            x5c.add(Base64.encode(c.getEncoded()));
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(new JOSEObjectType(GrantVerifier.TYPE)).x509CertChain(x5c).build(), claims);
        jwt.sign(new ECDSASigner((ECPrivateKey) grants.privateKey()));
        return jwt.serialize();
    }

    @Test
    void aLocalClockIn1970IsDetectedAsNoRealTimeClockAndNeedsTheGatewaysTime() throws Exception {
        DeviceClock clock = deviceClock(false);
        assertFalse(clock.localTrusted());
        assertTrue(clock.untrustedBecause().contains("before this SDK was built"), clock.untrustedBecause());
        assertTrue(clock.needsGatewayTime());
        assertFalse(clock.instant().isBefore(DeviceClock.sdkBuildTime()), "never earlier than the SDK's build");
    }

    @Test
    void withoutTheGatewaysTimeTlsToTheGatewayFailsAndAfterSyncingItWorks() throws Exception {
        HttpsServer server = gateway(siteServer, true);
        try {
            DeviceClock clock = deviceClock(false);
            DeviceException before = assertThrows(DeviceException.class, () -> pinnedGet(server,
                    Clock.fixed(NINETEEN_SEVENTY, ZoneOffset.UTC)));
            assertEquals(DeviceException.Reason.UNTRUSTED_GATEWAY, before.reason());

            timeClient(server).synchronize(clock);

            assertEquals(DeviceClock.Source.GATEWAY, clock.source());
            Duration off = Duration.between(site.clock().instant(), clock.instant()).abs();
            assertTrue(off.compareTo(Duration.ofSeconds(1)) < 0, "device time within 1 s of the gateway's: " + off);
            pinnedGet(server, clock);
            assertTrue(Files.isRegularFile(deviceDir.resolve(DeviceClock.FILE)), "the learnt time is recorded");
            nanos.addAndGet(Duration.ofMinutes(3).toNanos());
            assertEquals(Duration.ofMinutes(3).toSeconds(),
                    Duration.between(site.clock().instant(), clock.instant()).toSeconds(),
                    "the clock moves on with the monotonic clock");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void afterSyncingAGrantValidNowIsAcceptedAndAnExpiredOneRefused() throws Exception {
        HttpsServer server = gateway(siteServer, true);
        try {
            DeviceClock clock = deviceClock(false);
            timeClient(server).synchronize(clock);
            GrantVerifier verifier = new GrantVerifier(site.root(), site.ca().trustDomain(), VALVE,
                    UsedGrants.open(deviceDir.resolve("used"), clock, 100), clock);
            Instant gatewayNow = site.clock().instant();

            assertEquals(VALVE, verifier.verify(grant(gatewayNow, Duration.ofSeconds(30)), "valve.open").audience());
            GrantRefusedException expired = assertThrows(GrantRefusedException.class, () -> verifier.verify(
                    grant(gatewayNow.minus(Duration.ofMinutes(10)), Duration.ofSeconds(30)), "valve.open"));
            assertEquals(GrantRefusedException.Reason.EXPIRED, expired.reason());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void certificateValidityToleratesTheSkewOnlyWithoutARealTimeClock() throws Exception {
        HttpsServer server = gateway(siteServer, true);
        try {
            DeviceClock clock = deviceClock(false);
            timeClient(server).synchronize(clock);
            Instant notAfter = siteServer.chain().get(0).getNotAfter().toInstant();
            nanos.addAndGet(Duration.between(clock.instant(), notAfter.plus(Duration.ofMinutes(2))).toNanos());
            pinnedGet(server, clock);
            DeviceException trusted = assertThrows(DeviceException.class,
                    () -> pinnedGet(server, Clock.fixed(clock.instant(), ZoneOffset.UTC)));
            assertEquals(DeviceException.Reason.UNTRUSTED_GATEWAY, trusted.reason(), "no tolerance on a real clock");
            nanos.addAndGet(Duration.ofMinutes(4).toNanos());
            DeviceException beyond = assertThrows(DeviceException.class, () -> pinnedGet(server, clock));
            assertEquals(DeviceException.Reason.UNTRUSTED_GATEWAY, beyond.reason(), "6 min past expiry: beyond 5");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aGatewayAnsweringClockTrustedFalseIsNotBelieved() throws Exception {
        HttpsServer server = gateway(siteServer, false);
        try {
            DeviceClock clock = deviceClock(false);
            Instant before = clock.instant();
            DeviceException e = assertThrows(DeviceException.class, () -> timeClient(server).synchronize(clock));
            assertEquals(DeviceException.Reason.GATEWAY_TIME_UNTRUSTED, e.reason());
            assertEquals(DeviceClock.Source.RECORDED, clock.source());
            assertEquals(before, clock.instant());
            assertFalse(Files.exists(deviceDir.resolve(DeviceClock.FILE)), "nothing recorded");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aGatewayThatIsNotThePinnedSiteIsRefusedEvenForTheTime() throws Exception {
        HttpsServer server = gateway(impostorServer, true);
        try {
            DeviceClock clock = deviceClock(false);
            DeviceException e = assertThrows(DeviceException.class, () -> timeClient(server).synchronize(clock));
            assertEquals(DeviceException.Reason.UNTRUSTED_GATEWAY, e.reason());
            assertEquals(DeviceClock.Source.RECORDED, clock.source());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aRebootWithoutRealTimeClockStartsFromTheRecordedTime() throws Exception {
        HttpsServer server = gateway(siteServer, true);
        try {
            timeClient(server).synchronize(deviceClock(false));
        } finally {
            server.stop(0);
        }
        DeviceClock afterReboot = deviceClock(false);
        assertEquals(DeviceClock.Source.RECORDED, afterReboot.source());
        assertNotNull(afterReboot.recorded());
        assertEquals(afterReboot.recorded(), afterReboot.instant());
        Duration behind = Duration.between(afterReboot.instant(), site.clock().instant());
        assertTrue(behind.compareTo(Duration.ofSeconds(5)) < 0, "starts at the recorded time, not 1970: " + behind);
    }

    @Test
    void noRtcIgnoresALocalClockThatLooksRight() throws Exception {
        DeviceClock clock = DeviceClock.open(deviceDir, DeviceClock.Options.defaults().withNoRtc(true));
        assertFalse(clock.localTrusted());
        assertTrue(clock.needsGatewayTime());
        assertTrue(clock.untrustedBecause().contains("--no-rtc"));
    }

    @Test
    void aTrustedLocalClockIsUsedAsItIsAndNeedsNoRequest() throws Exception {
        DeviceClock clock = DeviceClock.open(deviceDir, DeviceClock.Options.defaults());
        assertTrue(clock.localTrusted());
        assertFalse(clock.needsGatewayTime());
        // no server: synchronize must not call out
        GatewayTimeClient.forRoot(URI.create("https://localhost:1"), site.root(), nanos::get).synchronize(clock);
        assertEquals(DeviceClock.Source.LOCAL, clock.source());
    }

    @Test
    void beforeEnrollmentTheTimeChannelTakesTheRootFromCacertsOnlyThroughThePin() throws Exception {
        HttpsServer server = gateway(siteServer, true);
        try {
            DeviceClock clock = deviceClock(false);
            // before enrollment the device holds only the pin: the server's chain must carry the pinned root
            GatewayTimeClient pinOnly = new GatewayTimeClient(url(server), RootFingerprint.of(site.root()),
                    List.of(), nanos::get);
            DeviceException e = assertThrows(DeviceException.class, () -> pinOnly.synchronize(clock));
            assertEquals(DeviceException.Reason.UNTRUSTED_GATEWAY, e.reason(), "a chain without the root is refused");
            // so enrollment takes the root from /cacerts, kept only when its fingerprint is the pin
            GatewayTimeClient.forPin(url(server), RootFingerprint.of(site.root()), nanos::get).synchronize(clock);
            assertEquals(DeviceClock.Source.GATEWAY, clock.source());
            DeviceException wrongPin = assertThrows(DeviceException.class, () -> GatewayTimeClient.forPin(
                    url(server), RootFingerprint.of(impostor.root()), nanos::get));
            assertEquals(DeviceException.Reason.UNTRUSTED_GATEWAY, wrongPin.reason());
        } finally {
            server.stop(0);
        }
    }
}
