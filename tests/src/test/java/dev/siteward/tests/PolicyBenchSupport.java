package dev.siteward.tests;

import dev.siteward.device.Backoff;
import dev.siteward.device.RetryPolicy;
import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A gateway with a trusted policy publisher and a pushed bundle allowing valve controllers to open valves, for the
 * action-decision benchmark ({@code bench.ActionDecisionsBench}).
 */
public final class PolicyBenchSupport implements AutoCloseable {

    private final GatewayProcess gateway;

    private PolicyBenchSupport(GatewayProcess gateway) {
        this.gateway = gateway;
    }

    public static PolicyBenchSupport start(Path work) throws Exception {
        Path keys = work.resolve("keys");
        Result keygen = Processes.run(work, Map.of(), Processes.siteward("model", "keygen", "--out", keys.toString(),
                "--name", "security-team"));
        check(keygen);
        ModelCliIT.PublisherChain publisher = ModelCliIT.PublisherChain.create(work, keys.resolve("publisher.csr"));
        List<String> jvm = new java.util.ArrayList<>();
        String extra = System.getProperty("bench.gatewayJvmArgs", "").strip();
        if (!extra.isEmpty()) {
            jvm.addAll(List.of(extra.split("\\s+")));
        }
        GatewayProcess gateway = GatewayProcess.start(work.resolve("gateway-data"), Map.of(), jvm);
        check(gateway.siteward("publisher", "add", "secteam", "--roots", publisher.root().toString(), "--policies"));
        Path bundle = Files.createDirectories(work.resolve("bench-bundle"));
        Files.writeString(bundle.resolve("valves.yaml"), """
                schemaVersion: 1
                rules:
                  - id: valve-controllers-open
                    description: Valve controllers open the valves.
                    effect: allow
                    subjects:
                      deviceLabels: {class: valve-controller}
                    actions: [valve.open]
                    resources:
                      ids: [valve-*]
                """);
        check(Processes.run(work, Map.of(), Processes.siteward("policy", "sign", bundle.toString(), "--key",
                keys.resolve("publisher-key.pem").toString(), "--cert-chain", publisher.chain().toString())));
        check(gateway.siteward("policy", "push", bundle.toString()));
        return new PolicyBenchSupport(gateway);
    }

    private static void check(Result r) {
        if (r.exitCode() != 0) {
            throw new AssertionError(r.both());
        }
    }

    public static RetryPolicy retry() {
        return new RetryPolicy(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), new Random()), 3,
                d -> Thread.sleep(d.toMillis()));
    }

    public String enrollUrl() {
        return gateway.enrollUrl().toString();
    }

    public String token(String deviceId, String labels) throws Exception {
        return gateway.token(deviceId, labels);
    }

    public String rootFingerprint() {
        return gateway.rootFingerprint();
    }

    public int devicePort() {
        return gateway.devicePort();
    }

    /** Live decisions the gateway recorded in the last day. */
    public int decisionCount() throws Exception {
        var r = gateway.admin("GET", "policy/decisions?days=1", "");
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).size();
    }

    @Override
    public void close() throws Exception {
        gateway.close();
    }
}
