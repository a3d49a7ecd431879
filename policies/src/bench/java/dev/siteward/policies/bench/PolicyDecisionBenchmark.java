package dev.siteward.policies.bench;

import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Decision;
import dev.siteward.policies.Effect;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.PolicySet;
import dev.siteward.policies.RateLimitState;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Measures one policy decision against generated bundles of 10 and 10,000 rules (loaded through
 * {@link PolicyLoader} from YAML), with two baselines on the same rules and requests: a linear scan of every rule
 * ({@link PolicySet#evaluateByScan}) and a HashMap lookup of a precomputed decision.
 *
 * <p>Run: {@code mvn -B -pl policies -Pbench package -DskipTests && java -jar policies/target/benchmarks.jar}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PolicyDecisionBenchmark {

    static final Instant NOW = Instant.parse("2026-03-02T09:30:00Z");

    @Param({"10", "10000"})
    public int rules;

    PolicySet set;
    AccessRequest[] requests;
    Map<AccessRequest, Decision> precomputed;
    int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path dir = Files.createTempDirectory("policy-bench");
        try {
            Files.writeString(dir.resolve("generated.yaml"), generate(rules));
            set = PolicyLoader.load(dir, new SiteConfig(ZoneId.of("Europe/Berlin")));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        requests = new AccessRequest[] {
            // allowed by rule-1 (device id, time window, certificate age)
            request(Subject.device("dev-0-1", Map.of("class", "c0"), NOW.minusSeconds(3600)), "area0.act1", "res-0-x"),
            // allowed by rule-2 (device label, site mode, resource label)
            request(Subject.device("dev-9", Map.of("class", "c0"), NOW.minusSeconds(3600)), "area0.act2", "res-0-y"),
            // an admin with a role that no rule names for this action: deny by default
            request(new Subject("olga", SubjectKind.ADMIN, Set.of("role-3"), Map.of(), null), "area0.act6", "r"),
            // denied by rule-0 (deny on area0.*), which overrides rule-4's allow
            request(Subject.device("dev-0-0", Map.of("class", "c1"), NOW.minusSeconds(3600)), "area0.act4", "res-0-z"),
        };
        precomputed = new HashMap<>();
        for (AccessRequest r : requests) {
            precomputed.put(r, set.evaluate(r, NOW, RateLimitState.NONE));
        }
    }

    private static AccessRequest request(Subject s, String action, String resource) {
        return new AccessRequest(s, action, new Resource(resource, "zone-1", Map.of("hazard", "low")),
                RequestContext.NORMAL);
    }

    /**
     * Generates {@code n} rules the way a site grows: by adding areas (groups of 10 rules: device ids, device labels
     * with roles, exact and wildcard actions, resource wildcards, time/mode/certificate/label conditions), plus one
     * quarantine deny rule on every action ({@code *}) per 100 rules for a distinct device. The rules relevant to
     * one request stay about 10 however large the bundle is; all requests target area 0, present in every size.
     */
    static String generate(int n) {
        StringBuilder y = new StringBuilder("schemaVersion: 1\nrules:\n");
        for (int i = 0; i < n; i++) {
            int g = i / 10;
            int j = i % 10;
            y.append("  - id: rule-").append(i).append('\n');
            if (i % 100 == 99) {
                y.append("    effect: deny\n    subjects: {devices: [quarantined-").append(g).append("]}\n")
                        .append("    actions: [\"*\"]\n");
                continue;
            }
            y.append("    effect: ").append(j == 0 ? "deny" : "allow").append('\n');
            switch (j % 3) {
                case 0, 1 -> y.append("    subjects: {devices: [dev-").append(g).append('-').append(j % 4)
                        .append("]}\n");
                default -> y.append("    subjects: {deviceLabels: {class: c").append(j % 2).append("}, roles: [role-")
                        .append(g % 50).append("]}\n");
            }
            String area = "area" + g;
            y.append("    actions: [").append(j % 5 == 0 ? area + ".\"*\"" : area + ".act" + (j % 7)).append("]\n");
            y.append("    resources: {ids: [\"res-").append(g).append("-*\"]}\n");
            if (j % 4 == 1) {
                y.append("    when:\n      timeWindows: [{days: [mon-fri], from: \"06:00\", to: \"22:00\"}]\n")
                        .append("      certificateMaxAge: 30d\n");
            } else if (j % 4 == 2) {
                y.append("    when: {siteMode: [normal], resourceLabels: {hazard: low}}\n");
            }
        }
        return y.toString().replace(".\"*\"", ".*");
    }

    private AccessRequest nextRequest() {
        int i = next;
        next = (i + 1) & 3;
        return requests[i];
    }

    /** The indexed evaluator: the number to watch. */
    @Benchmark
    public Decision indexed() {
        return set.evaluate(nextRequest(), NOW, RateLimitState.NONE);
    }

    /** Baseline: check every rule in order (same rules, same requests). */
    @Benchmark
    public Effect linearScan() {
        return set.evaluateByScan(nextRequest(), NOW, RateLimitState.NONE);
    }

    /** Baseline: a HashMap lookup of a decision computed in advance (the floor for any evaluator). */
    @Benchmark
    public Decision hashMapLookup() {
        return precomputed.get(nextRequest());
    }
}
