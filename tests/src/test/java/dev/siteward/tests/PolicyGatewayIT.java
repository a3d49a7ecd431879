package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.grants.GrantRefusedException;
import dev.siteward.device.grants.GrantVerifier;
import dev.siteward.device.grants.UsedGrants;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.tests.Processes.Result;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Action permissions end to end with the packaged gateway: a security team's key from {@code siteward model keygen},
 * a publisher certificate from a publisher CA ({@code siteward ca issue --profile publisher}), trusted with
 * {@code siteward publisher add --policies}; bundles signed with {@code siteward policy sign}, installed with
 * {@code siteward policy push} or dropped into {@code policy/incoming/}; an enrolled valve controller asking
 * {@code POST /v1/actions/{action}} and its grant checked by the SDK's {@link GrantVerifier}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PolicyGatewayIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Clock CLOCK = Clock.systemUTC();
    static final DateTimeFormatter HHMM = DateTimeFormatter.ofPattern("HH:mm");

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static Path keys;
    static ModelCliIT.PublisherChain publisher;
    static DeviceIdentity valveController;
    static HttpClient device;
    static String trustDomain;

    @BeforeAll
    static void startGatewayEnrollADeviceAndTrustThePublisher() throws Exception {
        keys = work.resolve("keys");
        Result keygen = Processes.run(work, Map.of(), Processes.siteward("model", "keygen", "--out", keys.toString(),
                "--name", "security-team"));
        assertEquals(0, keygen.exitCode(), keygen.both());
        publisher = ModelCliIT.PublisherChain.create(work, keys.resolve("publisher.csr"));
        gateway = GatewayProcess.start(work.resolve("gateway-data"), Map.of(),
                List.of("-Dsiteward.policy.incoming-settle=300ms"));
        String pin = gateway.rootFingerprint();
        DeviceDirectory dir = new DeviceDirectory(work.resolve("vc-01"));
        valveController = new EnrollmentClient(CLOCK, DeviceSdkIT.quickRetry()).enroll(EnrollmentRequest.of(
                gateway.enrollUrl().toString(), gateway.token("vc-01", "class=valve-controller"), pin), dir,
                new Pkcs12DeviceKeyStore(dir.keysDir(), CLOCK));
        device = client(valveController);
        trustDomain = SpiffeId.parseOrNull(uriSan(valveController.certificate())).trustDomain();
        Result add = gateway.siteward("publisher", "add", "secteam", "--roots", publisher.root().toString(),
                "--policies");
        assertEquals(0, add.exitCode(), add.both());
    }

    @AfterAll
    static void stopGateway() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static HttpClient client(DeviceIdentity id) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", id.root());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(id.keyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
    }

    private static String uriSan(X509Certificate c) throws Exception {
        for (List<?> san : c.getSubjectAlternativeNames()) {
            if (Integer.valueOf(6).equals(san.get(0))) {
                return (String) san.get(1);
            }
        }
        throw new AssertionError("no URI SAN");
    }

    /** The device asks for {@code action}; returns status and body. */
    private static HttpResponse<String> ask(String action, String body) throws Exception {
        return device.send(HttpRequest.newBuilder(URI.create(gateway.deviceUrl() + "/v1/actions/" + action))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode decide(String action, String resource) throws Exception {
        HttpResponse<String> r = ask(action, "{\"resource\": \"" + resource + "\", \"context\": {\"reason\": "
                + "\"batch 42\"}}");
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /**
     * A bundle allowing valve controllers to open valves in a window around now and to close them only in a window
     * that starts two hours from now; version {@code version}; a deny for maintenance when {@code maintenanceDeny}.
     */
    private static Path bundle(String name, int version, boolean maintenanceDeny, boolean withOpenRule)
            throws Exception {
        Path dir = Files.createDirectories(work.resolve(name).resolve("tests"));
        LocalTime now = LocalTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES);
        String open = """
                  - id: valve-open-on-shift
                    description: Valve controllers open valves during the current shift.
                    effect: allow
                    subjects:
                      deviceLabels: {class: valve-controller}
                    actions: [valve.open]
                    resources:
                      ids: [valve-*]
                    when:
                      timeWindows:
                        - {from: "%s", to: "%s"}
                """.formatted(HHMM.format(now.minusHours(1)), HHMM.format(now.plusHours(1)));
        String policy = """
                schemaVersion: 1
                site:
                  timeZone: UTC
                rules:
                %s
                  - id: valve-close-late-shift
                    description: Valve controllers close valves during the late shift only.
                    effect: allow
                    subjects:
                      deviceLabels: {class: valve-controller}
                    actions: [valve.close]
                    resources:
                      ids: [valve-*]
                    when:
                      timeWindows:
                        - {from: "%s", to: "%s"}
                """.formatted(withOpenRule ? open : "", HHMM.format(now.plusHours(2)), HHMM.format(now.plusHours(3)));
        if (maintenanceDeny) {
            policy += """
                      - id: no-valves-in-maintenance
                        description: Nothing moves a valve during maintenance.
                        effect: deny
                        subjects:
                          anyone: true
                        actions: [valve.*]
                        when:
                          siteMode: [maintenance]
                    """;
        }
        Files.writeString(dir.getParent().resolve("valves.yaml"), policy);
        Files.writeString(dir.resolve("valves.yaml"), """
                schemaVersion: 1
                cases:
                  - name: a valve controller opens a valve now
                    at: "%s"
                    subject: {id: vc-01, kind: device, labels: {class: valve-controller}}
                    action: valve.open
                    resource: {id: valve-07}
                    expect: %s
                """.formatted(Instant.now().truncatedTo(ChronoUnit.SECONDS), withOpenRule ? "allow" : "deny"));
        Result signed = Processes.run(work, Map.of(), Processes.siteward("policy", "sign", dir.getParent().toString(),
                "--key", keys.resolve("publisher-key.pem").toString(), "--cert-chain", publisher.chain().toString(),
                "--version", String.valueOf(version), "--expires", "1d"));
        assertEquals(0, signed.exitCode(), signed.both());
        return dir.getParent();
    }

    private static GrantVerifier verifier(String actuator) throws Exception {
        return new GrantVerifier(valveController.root(), trustDomain, actuator,
                UsedGrants.open(work.resolve("actuator-" + actuator + "/used-grants"), CLOCK, 1000), CLOCK);
    }

    @Test
    @Order(1)
    void withNoBundleEveryDecisionIsDenyAndAMalformedBodyIs400() throws Exception {
        JsonNode d = decide("valve.open", "valve-07");
        assertEquals("deny", d.path("effect").asText());
        assertTrue(d.path("reason").asText().contains("no policy bundle is installed"), d.toString());
        assertTrue(d.path("grant").isNull(), d.toString());
        assertFalse(d.path("decisionId").asText().isEmpty());

        HttpResponse<String> malformed = ask("valve.open", "{\"resource\": ");
        assertEquals(400, malformed.statusCode(), malformed.body());
        assertEquals("request.invalid", JSON.readTree(malformed.body()).path("code").asText());
        HttpResponse<String> noResource = ask("valve.open", "{\"context\": {}}");
        assertEquals(400, noResource.statusCode(), noResource.body());
        HttpResponse<String> claimsMode = ask("valve.open", "{\"resource\": \"valve-07\", \"context\": "
                + "{\"siteMode\": \"maintenance\"}}");
        assertEquals(400, claimsMode.statusCode(), claimsMode.body());
        HttpResponse<String> badAction = ask("valve.*", "{\"resource\": \"valve-07\"}");
        assertEquals(400, badAction.statusCode(), badAction.body());

        Result status = gateway.siteward("policy", "status");
        assertEquals(1, status.exitCode(), status.both());
        assertTrue(status.stdout().contains("active: none"), status.stdout());
    }

    @Test
    @Order(2)
    void aPushedBundleAllowsInsideItsWindowDeniesOutsideAndTheGrantIsSingleUse() throws Exception {
        Result push = gateway.siteward("policy", "push", bundle("v1", 1, false, true).toString());
        assertEquals(0, push.exitCode(), push.both());
        assertTrue(push.stdout().startsWith("installed policy bundle v1 version 1 (sha256:"), push.stdout());

        JsonNode allowed = decide("valve.open", "valve-07");
        assertEquals("allow", allowed.path("effect").asText(), allowed.toString());
        assertEquals(List.of("valve-open-on-shift"), List.of(allowed.path("rules").get(0).asText()));
        assertEquals(1, allowed.path("bundleVersion").asInt());
        String grant = allowed.path("grant").asText();
        assertFalse(grant.isEmpty(), allowed.toString());

        GrantVerifier valve07 = verifier("valve-07");
        var verified = valve07.verify(grant, "valve.open");
        assertEquals("spiffe://" + trustDomain + "/device/vc-01", verified.subject());
        assertEquals(allowed.path("decisionId").asText(), verified.decisionId());
        assertTrue(verified.expires().isBefore(Instant.now().plusSeconds(31)));
        GrantRefusedException replay = assertThrows(GrantRefusedException.class, () ->
                valve07.verify(grant, "valve.open"));
        assertEquals(GrantRefusedException.Reason.REPLAYED, replay.reason());
        GrantRefusedException replayAfterReboot = assertThrows(GrantRefusedException.class, () ->
                verifier("valve-07").verify(grant, "valve.open"));
        assertEquals(GrantRefusedException.Reason.REPLAYED, replayAfterReboot.reason());
        assertEquals(GrantRefusedException.Reason.WRONG_AUDIENCE, assertThrows(GrantRefusedException.class, () ->
                verifier("valve-08").verify(grant, "valve.open")).reason());

        JsonNode outside = decide("valve.close", "valve-07");
        assertEquals("deny", outside.path("effect").asText(), outside.toString());
        assertTrue(outside.path("reason").asText().contains("valve-close-late-shift"), outside.toString());
        assertTrue(outside.path("grant").isNull());

        Result status = gateway.siteward("policy", "status");
        assertEquals(0, status.exitCode(), status.both());
        assertTrue(status.stdout().contains("version 1"), status.stdout());
    }

    @Test
    @Order(3)
    void anAdminAsksOnBehalfOfADeviceAsADryRunWithoutGrant() throws Exception {
        Path admin = gateway.dataDir().resolve("admin");
        HttpClient adminClient = HttpClient.newBuilder().sslContext(Tls.context(admin.resolve("admin.pem"),
                admin.resolve("admin-key.pem"), admin.resolve("root.pem"))).version(HttpClient.Version.HTTP_1_1)
                .build();
        var r = adminClient.send(HttpRequest.newBuilder(URI.create(gateway.deviceUrl() + "/v1/actions/valve.open"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resource\": \"valve-07\", \"subject\": {\"kind\": \"device\", \"id\": \"vc-01\"}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode d = JSON.readTree(r.body());
        assertEquals("allow", d.path("effect").asText(), r.body());
        assertTrue(d.path("dryRun").asBoolean());
        assertTrue(d.path("grant").isNull());

        HttpResponse<String> deviceOnBehalf = ask("valve.open", "{\"resource\": \"valve-07\", \"subject\": "
                + "{\"kind\": \"device\", \"id\": \"vc-02\"}}");
        assertEquals(403, deviceOnBehalf.statusCode(), deviceOnBehalf.body());

        Result explain = gateway.siteward("policy", "explain", "--subject", "device:vc-01", "--label",
                "class=valve-controller", "--action", "valve.close", "--resource", "valve-07");
        assertEquals(0, explain.exitCode(), explain.both());
        assertTrue(explain.stdout().startsWith("deny (no rule applies)"), explain.stdout());
        assertTrue(explain.stdout().contains("bundle: version 1"), explain.stdout());
    }

    @Test
    @Order(4)
    void diffReplaysTheRecordedDecisionsAgainstAProposedBundle() throws Exception {
        Path without = bundle("v1-without-open", 2, false, false);
        Result diff = gateway.siteward("policy", "diff", work.resolve("v1").toString(), without.toString(),
                "--days", "1");
        assertEquals(0, diff.exitCode(), diff.both());
        assertTrue(diff.stdout().lines().anyMatch(l -> l.startsWith("would change: decision ")
                && l.contains("valve.open") && l.contains("was allow, now deny")), diff.stdout());
        assertTrue(diff.stdout().contains("recorded decision(s) of the last 1 day(s) would change"), diff.stdout());
    }

    @Test
    @Order(4)
    void bundleActivationsAndDecisionsAreInTheAuditLog() throws Exception {
        Result export = gateway.siteward("audit", "export", "--since", "1h");
        assertEquals(0, export.exitCode(), export.both());
        List<JsonNode> records = new ArrayList<>();
        for (String line : export.stdout().lines().toList()) {
            records.add(JSON.readTree(line));
        }
        assertTrue(records.stream().anyMatch(n -> n.path("type").asText().equals("policy_bundle")
                && n.path("details").asText().contains("\"activate\"")), "bundle activation audited");
        assertTrue(records.stream().anyMatch(n -> n.path("type").asText().equals("action_decision")
                && n.path("subject").asText().equals("action/valve.open")
                && n.path("details").asText().contains("\"effect\":\"allow\"")), "allowed decision audited");
        assertTrue(records.stream().anyMatch(n -> n.path("type").asText().equals("action_decision")
                && n.path("details").asText().contains("\"dryRun\":true")), "dry run audited");
        Result verify = gateway.siteward("audit", "verify");
        assertEquals(0, verify.exitCode(), verify.both());
    }

    @Test
    @Order(5)
    void aBundleDroppedIntoIncomingIsHotReloadedAndATamperedOneKeepsTheLastGood() throws Exception {
        Path incoming = gateway.dataDir().resolve("policy/incoming");
        Path v2 = bundle("v2", 2, true, true);
        copyTree(v2, incoming.resolve(".v2.partial"));
        Files.move(incoming.resolve(".v2.partial"), incoming.resolve("v2"));
        awaitStatus("version 2");

        Path v3 = bundle("v3", 3, true, true);
        Files.writeString(v3.resolve("valves.yaml"), Files.readString(v3.resolve("valves.yaml"))
                .replace("valve-*", "*"));
        copyTree(v3, incoming.resolve(".v3.partial"));
        Files.move(incoming.resolve(".v3.partial"), incoming.resolve("v3"));
        Path reason = awaitReason("v3");
        String text = Files.readString(reason);
        assertTrue(text.startsWith("modelsig.digest_mismatch: "), text);
        assertTrue(text.contains("valves.yaml"), text);

        Result status = gateway.siteward("policy", "status");
        assertTrue(status.stdout().contains("version 2"), status.stdout());
        assertTrue(status.stdout().contains("last refused: v3"), status.stdout());
        assertEquals("allow", decide("valve.open", "valve-07").path("effect").asText());

        Result maintenance = gateway.siteward("policy", "mode", "maintenance");
        assertEquals(0, maintenance.exitCode(), maintenance.both());
        JsonNode d = decide("valve.open", "valve-07");
        assertEquals("deny", d.path("effect").asText(), d.toString());
        assertEquals("maintenance", d.path("siteMode").asText());
        assertEquals(0, gateway.siteward("policy", "mode", "normal").exitCode());
        assertEquals("allow", decide("valve.open", "valve-07").path("effect").asText());
    }

    @Test
    @Order(6)
    void olderUnsignedAndExpiredBundlesAreRefusedAndTheActiveOneStays() throws Exception {
        Result older = gateway.siteward("policy", "push", work.resolve("v1").toString());
        assertEquals(1, older.exitCode(), older.both());
        assertTrue(older.stderr().contains("bundle.not_newer"), older.stderr());

        Path unsigned = bundle("v9-unsigned", 9, false, true);
        Files.delete(unsigned.resolve("bundle.sig"));
        Result u = gateway.siteward("policy", "push", unsigned.toString());
        assertEquals(1, u.exitCode(), u.both());
        assertTrue(u.stderr().contains("bundle.unsigned"), u.stderr());

        Path expired = bundle("v10-expired", 10, false, true);
        Instant past = Instant.now().minus(Duration.ofDays(2));
        Files.writeString(expired.resolve("siteward-bundle.yaml"), "bundleFormat: 1\nversion: 10\ncreated: \""
                + past + "\"\nexpires: \"" + past.plus(Duration.ofDays(1)) + "\"\n");
        Path sig = expired.resolve("bundle.sig");
        Files.delete(sig);
        List<X509Certificate> chain = PemCodec.parseCertificates(Files.readString(publisher.chain()));
        ModelSigner.withCertificateChain(KeyMaterial.readPrivateKey(Files.readString(keys.resolve(
                "publisher-key.pem"))), chain).sign(ModelLocation.of(expired).signatureFile(sig)).writeTo(sig);
        Result e = gateway.siteward("policy", "push", expired.toString());
        assertEquals(1, e.exitCode(), e.both());
        assertTrue(e.stderr().contains("bundle.expired"), e.stderr());

        Result status = gateway.siteward("policy", "status");
        assertTrue(status.stdout().contains("version 2"), status.stdout());
        assertNotNull(decide("valve.open", "valve-07").path("grant").textValue());
    }

    @Test
    @Order(7)
    void theActiveBundleAndModeSurviveARestartAndPushWorksWithTheGatewayStopped() throws Exception {
        assertEquals(0, gateway.siteward("policy", "mode", "maintenance").exitCode());
        gateway.stop();
        Result push = gateway.siteward("policy", "push", bundle("v4", 4, true, true).toString());
        assertEquals(0, push.exitCode(), push.both());
        Result status = gateway.siteward("policy", "status");
        assertTrue(status.stdout().contains("version 4"), status.both());
        assertTrue(status.stdout().contains("site mode: maintenance"), status.stdout());
        gateway = GatewayProcess.start(gateway.dataDir(), Map.of(), List.of());
        device = client(valveController);
        JsonNode d = decide("valve.open", "valve-07");
        assertEquals("deny", d.path("effect").asText(), d.toString());
        assertEquals(4, d.path("bundleVersion").asInt());
        assertNull(d.path("grant").textValue());
    }

    private static void awaitStatus(String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            var r = gateway.admin("GET", "policy", "");
            last = r.body();
            if (JSON.readTree(last).path("active").path("version").asText().equals(text.replace("version ", ""))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the gateway did not activate " + text + ": " + last);
    }

    private static Path awaitReason(String name) throws Exception {
        Path rejected = gateway.dataDir().resolve("policy/rejected");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try (Stream<Path> s = Files.list(rejected)) {
                var hit = s.filter(p -> p.getFileName().toString().endsWith("-" + name + ".reason.txt")).findFirst();
                if (hit.isPresent()) {
                    return hit.get();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no rejection reason for " + name + " in " + rejected);
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
