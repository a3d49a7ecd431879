package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.health.HealthReport;
import dev.siteward.device.health.HealthReporter;
import dev.siteward.device.health.HeartbeatSender;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.models.FetchResult;
import dev.siteward.device.models.HttpModelGateway;
import dev.siteward.device.models.ModelClient;
import dev.siteward.device.models.ModelGateway;
import dev.siteward.device.models.ModelReport;
import dev.siteward.device.models.ModelSecurityException;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.gateway.rollout.Cohort;
import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A staged rollout end to end: the real gateway jar, {@code siteward rollout} as an operator runs it, and a fleet of
 * SDK devices enrolled in-process that fetch signed metadata, install with the SDK's A/B slots and health check, and
 * send heartbeats. A version that fails to load on one device of the first stage halts the rollout, which rolls back
 * automatically: the devices that installed it go back to the previous version, the ones outside the stage never see
 * it, and the metadata that carried it is refused when replayed.
 */
class RolloutIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "rollout passphrase",
            "SITEWARD_ROLLOUTS_TICK_INTERVAL", "1s");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Clock CLOCK = Clock.systemUTC();
    private static final String MODEL = "vision/counter";
    private static final int FLEET = 12;

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static final List<Device> devices = new ArrayList<>();

    /** One SDK device: identity, model client (health check fails for the versions in {@code failing}). */
    record Device(String id, DeviceDirectory dir, DeviceHttpClient http, ModelClient models, HealthReporter health,
                  Set<Long> failing) {

        FetchResult fetch() throws Exception {
            return models.fetch(MODEL);
        }

        void heartbeat() throws Exception {
            HealthReporter.Outcome o = health.report(new HealthReport(CLOCK.instant(), 60, 100, 0, 2.0, 4.0, 5.0,
                    HealthReport.runningModels(models.store())));
            assertTrue(o.delivered(), id + ": " + o.lastFailure());
        }
    }

    static RetryPolicy quickRetry() {
        return new RetryPolicy(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), new Random()), 3,
                d -> Thread.sleep(d.toMillis()));
    }

    static Result siteward(String... args) {
        return Processes.run(work, ENV, Processes.siteward(args));
    }

    static Path model(int version) throws Exception {
        Path f = Files.createDirectories(work.resolve("v" + version)).resolve("counter.bin");
        Files.writeString(f, "counter weights, version " + version + "\n");
        Path sig = work.resolve("v" + version + ".sig");
        Result s = siteward("model", "sign", f.toString(), "--key", work.resolve("vision/publisher-key.pem")
                .toString(), "--cert-chain", work.resolve("vision/publisher-cert.pem").toString(), "--out",
                sig.toString());
        assertEquals(0, s.exitCode(), s.both());
        Result p = gateway.cli("model", "publish", f.toString(), "--signature", sig.toString(), "--name", MODEL,
                "--version", String.valueOf(version));
        assertEquals(0, p.exitCode(), p.both());
        return f;
    }

    @BeforeAll
    static void gatewayModelsAndFleet() throws Exception {
        Result keygen = siteward("model", "keygen", "--out", work.resolve("vision").toString(), "--name", "vision");
        assertEquals(0, keygen.exitCode(), keygen.both());
        gateway = GatewayProcess.start(work.resolve("data"), ENV);
        Result add = gateway.cli("publisher", "add", "vision-team", "--roots",
                work.resolve("vision/publisher-cert.pem").toString(), "--models", "vision/*");
        assertEquals(0, add.exitCode(), add.both());
        model(1);
        model(2);
        Result rel = gateway.cli("model", "release", MODEL, "--version", "1", "--channel", "stable");
        assertEquals(0, rel.exitCode(), rel.both());
        String pin = gateway.rootFingerprint();
        for (int i = 0; i < FLEET; i++) {
            String id = String.format("cam-%02d", i);
            DeviceDirectory dir = new DeviceDirectory(work.resolve(id));
            DeviceIdentity identity = new EnrollmentClient(CLOCK, quickRetry()).enroll(
                    EnrollmentRequest.of(gateway.enrollUrl().toString(), gateway.token(id, "class=camera"), pin),
                    dir, new Pkcs12DeviceKeyStore(dir.keysDir(), CLOCK));
            DeviceHttpClient http = new DeviceHttpClient(identity, CLOCK);
            Set<Long> failing = new HashSet<>();
            ModelClient client = ModelClient.over(http, dir, CLOCK, quickRetry(), Duration.ofDays(3))
                    .healthCheck(m -> {
                        if (failing.contains(m.version())) {
                            throw new IllegalStateException("the model does not load on this device");
                        }
                    });
            devices.add(new Device(id, dir, http, client, new HealthReporter(dir.path(), HeartbeatSender.over(http),
                    CLOCK, 100), failing));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    /** {@code GET /v1/admin/rollouts/{id}} (what {@code rollout status ID --json} prints), without a JVM per call. */
    static JsonNode status(String id) throws Exception {
        var r = gateway.admin("GET", "rollouts/" + id, "");
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static String statusText(String id) {
        try {
            return status(id).toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    static String metadataPayload(Device d) {
        try {
            return com.nimbusds.jose.JWSObject.parse(Files.readString(d.models().store().root()
                    .resolve("metadata.jws")).strip()).getPayload().toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void aFailingReleaseHaltsAtItsFirstStageAndDevicesReturnToThePreviousVersion() throws Exception {
        for (Device d : devices) {
            FetchResult r = d.fetch();
            assertEquals(FetchResult.Outcome.INSTALLED, r.outcome(), r.message());
            assertEquals(1L, r.running());
            d.heartbeat();
        }
        Result bad = gateway.cli("rollout", "start", MODEL, "--version", "2", "--channel", "stable", "--stages",
                "50%,100%", "--max-failure", "101%");
        assertEquals(2, bad.exitCode(), bad.both());
        Result started = gateway.cli("rollout", "start", MODEL, "--version", "2", "--channel", "stable", "--stages",
                "50%,100%", "--soak", "10m", "--max-failure", "5%", "--auto-rollback");
        assertEquals(0, started.exitCode(), started.both());
        String id = started.stdout().strip();
        assertTrue(id.matches("[0-9a-f-]{36}"), id);
        Result busy = gateway.cli("rollout", "start", MODEL, "--version", "2", "--channel", "stable", "--stages",
                "100%");
        assertEquals(2, busy.exitCode(), busy.both());
        assertTrue(busy.stderr().contains("rollout.active"), busy.both());

        Set<String> stage = new HashSet<>();
        for (Device d : devices) {
            if (Cohort.position(id, d.id()) < 0.5) {
                stage.add(d.id());
            }
        }
        assertFalse(stage.isEmpty(), "no device in the 50% stage");
        Device failing = devices.stream().filter(d -> stage.contains(d.id())).findFirst().orElseThrow();
        failing.failing().add(2L);

        Map<String, String> v2Metadata = new java.util.HashMap<>();
        // the failing device fetches last: the gateway judges the stage every second and halts at once
        List<Device> order = new ArrayList<>(devices);
        order.remove(failing);
        order.add(failing);
        for (Device d : order) {
            FetchResult r = d.fetch();
            if (d == failing) {
                assertEquals(FetchResult.Outcome.FALLBACK, r.outcome(), r.message());
                assertEquals(1L, r.running());
            } else if (stage.contains(d.id())) {
                assertEquals(FetchResult.Outcome.INSTALLED, r.outcome(), () -> r.message() + "; " + d.id()
                        + " at " + Cohort.position(id, d.id()) + "; " + statusText(id) + "; metadata "
                        + metadataPayload(d));
                assertEquals(2L, r.running());
                v2Metadata.put(d.id(), Files.readString(d.models().store().root().resolve("metadata.jws")));
            } else {
                assertEquals(FetchResult.Outcome.CURRENT, r.outcome(), d.id() + " is outside the stage");
            }
            d.heartbeat();
        }

        JsonNode s = status(id);
        for (int i = 0; i < 60 && !s.at("/rollout/state").asText().equals("rolled_back"); i++) {
            Thread.sleep(500);  // the gateway's own scheduler judges the rollout (tick interval 1 s)
            s = status(id);
        }
        assertEquals("rolled_back", s.at("/rollout/state").asText(), s.toString());
        assertEquals(0, s.at("/rollout/currentStage").asInt());
        assertTrue(s.at("/rollout/haltReason").asText().contains(failing.id() + " fallback"), s.toString());
        assertEquals(stage.size(), s.at("/stages/0/targeted").asInt());
        Result json = gateway.cli("rollout", "status", id, "--json");
        assertEquals(0, json.exitCode(), json.both());
        assertEquals("rolled_back", JSON.readTree(json.stdout()).at("/rollout/state").asText());
        assertEquals(1, s.at("/stages/0/failed").asInt());
        Result text = gateway.cli("rollout", "status", id);
        assertEquals(0, text.exitCode(), text.both());
        assertTrue(text.stdout().contains("ROLLED_BACK"), text.stdout());
        assertTrue(text.stdout().contains("halted: stage 50%"), text.stdout());

        for (Device d : devices) {
            FetchResult r = d.fetch();
            if (v2Metadata.containsKey(d.id())) {
                assertEquals(FetchResult.Outcome.ROLLED_BACK, r.outcome(), r.message());
            }
            assertEquals(1L, r.running(), d.id() + " runs the previous version");
            d.heartbeat();
        }
        // replaying the metadata that carried version 2 is refused: no hole in rollback protection
        for (Map.Entry<String, String> e : v2Metadata.entrySet()) {
            Device d = devices.stream().filter(x -> x.id().equals(e.getKey())).findFirst().orElseThrow();
            ModelGateway real = new HttpModelGateway(d.http());
            ModelGateway replay = new ModelGateway() {
                @Override
                public String trust() throws DeviceException {
                    return real.trust();
                }

                @Override
                public String metadata() {
                    return e.getValue();
                }

                @Override
                public BlobBody blob(String sha256, long offset) throws DeviceException {
                    return real.blob(sha256, offset);
                }

                @Override
                public void report(ModelReport report) throws DeviceException {
                    real.report(report);
                }
            };
            ModelClient replaying = new ModelClient(d.http().identity().state(), d.dir(), replay, d.http().crls(),
                    CLOCK, quickRetry(), Duration.ofDays(3));
            ModelSecurityException refused = assertThrows(ModelSecurityException.class,
                    () -> replaying.fetch(MODEL));
            assertEquals("metadata.replayed", refused.code().code());
            assertEquals(1L, d.fetch().running());
        }

        Result list = gateway.cli("device", "list");
        assertEquals(0, list.exitCode(), list.both());
        assertTrue(list.stdout().contains("HEALTH"), list.stdout());
        assertTrue(list.stdout().contains(MODEL + "@1"), list.stdout());
        assertTrue(list.stdout().contains("healthy"), list.stdout());
    }
}
