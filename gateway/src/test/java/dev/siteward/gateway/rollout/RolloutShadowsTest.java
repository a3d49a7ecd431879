package dev.siteward.gateway.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.models.BlobStore;
import dev.siteward.gateway.models.ModelException;
import dev.siteward.gateway.models.ModelRepository;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.trust.PublisherTrust;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shadow mode's state in the rollout tables: which shadows are live, and their counts across restarts. */
class RolloutShadowsTest {

    static final String MODEL = "vision/counter";

    @TempDir
    Path data;
    final MutableClock clock = MutableClock.atSystemTime();
    final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    GatewayStore store;
    ModelRepository repo;
    RolloutService rollouts;
    RolloutShadows shadows;

    @BeforeEach
    void setUp() throws Exception {
        KeyPair key = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        X509Certificate cert = KeyMaterial.selfSignedCertificate(key, "vision", clock, Duration.ofDays(365));
        PublisherTrust.none()
                .with(new PublisherTrust.Publisher("vision-team", List.of(cert), List.of("vision/*"), false))
                .save(data);
        open();
        for (int v = 1; v <= 2; v++) {
            Path f = Files.write(Files.createDirectories(data.resolve("work/v" + v)).resolve("counter.bin"),
                    ("weights " + v).getBytes());
            byte[] sig = ModelSigner.withCertificateChain(key.getPrivate(), List.of(cert)).sign(ModelLocation.of(f))
                    .bundle();
            repo.publishLocal(f, null, MODEL, v, sig);
        }
        repo.release(MODEL, 1, "stable", List.of());
    }

    void open() throws Exception {
        store = GatewayStore.openEmbedded(data);
        repo = new ModelRepository(store, new BlobStore(data), data, clock, 1L << 30);
        rollouts = new RolloutService(store, audit::add, clock, new HealthCriteria(0.05, null, 0.9,
                Duration.ofMinutes(15)), (m, v) -> false);
        shadows = new RolloutShadows(store, clock);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    RolloutService.StartRequest shadowed(Duration window, Double tolerance) {
        return new RolloutService.StartRequest(MODEL, MODEL, 2, "stable", "10%,100%", Duration.ofHours(1), 0.05,
                false, window, tolerance);
    }

    static long[] latencies(double... millis) {
        ShadowLatency h = new ShadowLatency();
        for (double m : millis) {
            h.observe(m);
        }
        return h.drain();
    }

    @Test
    void aShadowedRolloutIsLiveUntilItsWindowEndsAndItsCountsAddUpAcrossRestarts() throws Exception {
        Rollout r = rollouts.start(shadowed(Duration.ofMinutes(30), 0.05));
        List<RolloutShadows.Live> live = shadows.live();
        assertEquals(1, live.size());
        assertEquals(2, live.get(0).version());
        assertEquals(0.05, live.get(0).tolerance());
        assertEquals(r.createdAt().plus(Duration.ofMinutes(30)), live.get(0).until());

        shadows.add(r.id(), new RolloutShadows.Delta(100, 80, 90, 2, 5, latencies(1, 1, 1, 2),
                latencies(3, 3, 3, 40)));
        store.close();
        open(); // a restart keeps what was recorded
        shadows.add(r.id(), new RolloutShadows.Delta(100, 70, 95, 0, 1, latencies(1), latencies(3)));
        RolloutShadows.Status s = rollouts.status(r.id()).shadow();
        assertNotNull(s);
        assertTrue(s.live());
        assertEquals(200, s.compared());
        assertEquals(150, s.agreed());
        assertEquals(0.75, s.agreementRate());
        assertEquals(185, s.decisionsEqual());
        assertEquals(0.925, s.decisionAgreementRate());
        assertEquals(2, s.shadowErrors());
        assertEquals(6, s.shed());
        // percentiles are bucket upper bounds: within 25% above the true value
        assertTrue(s.activeLatencyMs().p50() >= 1 && s.activeLatencyMs().p50() <= 1.25, s.toString());
        assertTrue(s.shadowLatencyMs().p50() >= 3 && s.shadowLatencyMs().p50() <= 3.75, s.toString());
        assertTrue(s.shadowLatencyMs().p99() >= 40 && s.shadowLatencyMs().p99() <= 50, s.toString());
        assertTrue(audit.stream().anyMatch(e -> e.details().containsKey("shadowSeconds")));

        clock.advance(Duration.ofMinutes(30));
        assertTrue(shadows.live().isEmpty(), "the window is over");
        assertFalse(rollouts.status(r.id()).shadow().live());
        assertEquals(200, rollouts.status(r.id()).shadow().compared(), "the counts stay in the status");
    }

    @Test
    void abortingTheRolloutEndsItsShadow() throws Exception {
        Rollout r = rollouts.start(shadowed(Duration.ofHours(1), null));
        assertEquals(RolloutShadows.DEFAULT_TOLERANCE, shadows.live().get(0).tolerance());
        rollouts.abort(r.id());
        assertTrue(shadows.live().isEmpty());
        RolloutShadows.Status s = rollouts.status(r.id()).shadow();
        assertFalse(s.live());
        assertNull(s.agreementRate(), "nothing compared yet");
        assertNull(s.shadowLatencyMs().p50());
    }

    @Test
    void aPausedOrHaltedRolloutKeepsItsShadowRunning() throws Exception {
        Rollout r = rollouts.start(shadowed(Duration.ofHours(1), null));
        rollouts.pause(r.id());
        assertEquals(1, shadows.live().size());
    }

    @Test
    void aRolloutWithoutShadowHasNoShadowStatus() throws Exception {
        Rollout r = rollouts.start(new RolloutService.StartRequest(MODEL, MODEL, 2, "stable", "100%",
                Duration.ZERO, 0.05, false));
        assertNull(rollouts.status(r.id()).shadow());
        assertTrue(shadows.live().isEmpty());
    }

    @Test
    void badShadowSettingsAreRefusedAndStoreNothing() throws Exception {
        for (RolloutService.StartRequest bad : List.of(shadowed(Duration.ZERO, null),
                shadowed(Duration.ofDays(31), null), shadowed(Duration.ofHours(1), 1.5),
                shadowed(Duration.ofHours(1), -0.1), shadowed(null, 0.1))) {
            ModelException e = assertThrows(ModelException.class, () -> rollouts.start(bad));
            assertEquals("rollout.invalid", e.code(), e.getMessage());
        }
        assertEquals(1, rollouts.list(10).size(), "only model release's record");
        assertTrue(shadows.live().isEmpty());
    }
}
