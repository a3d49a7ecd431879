package dev.siteward.tests.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.tests.PolicyBenchSupport;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decisions per second through {@code POST /v1/actions/{action}} (decide, record in the decision log, sign an ES256
 * grant) over one mTLS keep-alive connection, next to {@code GET /v1/whoami} on the same connection in the same run
 * (alternating rounds, so both see the same machine load). Not part of the test suite; run it explicitly:
 * {@code mvn -B -q -pl tests -am verify -Dit.test=ActionDecisionsBench -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false -Dbench.seconds=5} (docs/benchmarks.md, "Action decisions").
 */
class ActionDecisionsBench {

    @TempDir
    static java.nio.file.Path work;

    @Test
    void decisionsPerSecondNextToWhoami() throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 5);
        int rounds = Integer.getInteger("bench.rounds", 3);
        try (PolicyBenchSupport site = PolicyBenchSupport.start(work)) {
            DeviceDirectory dir = new DeviceDirectory(work.resolve("vc-01"));
            DeviceIdentity id = new EnrollmentClient(Clock.systemUTC(), dev.siteward.tests.PolicyBenchSupport
                    .retry()).enroll(EnrollmentRequest.of(site.enrollUrl(), site.token("vc-01",
                    "class=valve-controller"), site.rootFingerprint()), dir,
                    new Pkcs12DeviceKeyStore(dir.keysDir(), Clock.systemUTC()));
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", id.root());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(id.keyManagers(), tmf.getTrustManagers(), null);
            byte[] body = "{\"resource\": \"valve-07\"}".getBytes(StandardCharsets.UTF_8);
            List<String> lines = new ArrayList<>();
            try (Http1 http = new Http1(ctx, site.devicePort())) {
                Http1.Response first = http.post("/v1/actions/valve.open", "application/json", null, body);
                assertEquals(200, first.status(), first.text());
                assertTrue(first.text().contains("\"effect\":\"allow\""), first.text());
                // warm-up: both paths, same length as one measured round
                run(http, false, body, seconds);
                run(http, true, body, seconds);
                double whoamiSum = 0;
                double actionSum = 0;
                for (int r = 1; r <= rounds; r++) {
                    double w = run(http, false, body, seconds);
                    double a = run(http, true, body, seconds);
                    whoamiSum += w;
                    actionSum += a;
                    lines.add(String.format("round %d: GET /v1/whoami %.0f req/s, POST /v1/actions/valve.open "
                            + "(allow + grant) %.0f decisions/s, ratio %.2f", r, w, a, a / w));
                }
                lines.add(String.format("mean of %d rounds: whoami %.0f req/s, actions %.0f decisions/s, ratio %.2f",
                        rounds, whoamiSum / rounds, actionSum / rounds, actionSum / whoamiSum));
            }
            lines.add("decisions recorded: " + site.decisionCount());
            lines.forEach(l -> System.out.println("bench: " + l));
        }
    }

    private static double run(Http1 http, boolean action, byte[] body, int seconds) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long start = System.nanoTime();
        int n = 0;
        while (System.nanoTime() < end) {
            Http1.Response r = action ? http.post("/v1/actions/valve.open", "application/json", null, body)
                    : http.get("/v1/whoami");
            if (r.status() != 200) {
                throw new AssertionError(r.status() + " " + r.text());
            }
            n++;
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }
}
