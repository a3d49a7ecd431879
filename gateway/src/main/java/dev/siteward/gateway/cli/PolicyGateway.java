package dev.siteward.gateway.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.authorization.AuthorizationBeans;
import dev.siteward.gateway.authorization.DecisionLog;
import dev.siteward.gateway.authorization.PolicyAdminOperations;
import dev.siteward.gateway.authorization.PolicyBundles;
import dev.siteward.gateway.authorization.PolicyService;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The policy commands that need the gateway's state ({@code push}, {@code status}, {@code mode}, {@code explain}
 * without {@code --bundle}, {@code diff --days}): through the running gateway's admin API when it holds the data dir,
 * else directly on the data dir (holding its lock), with the same operations the admin API runs.
 */
final class PolicyGateway implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
            .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Path dataDir;
    private final RemoteOperations remote;
    private final DataDir.Lock lock;
    private PolicyService local;
    private GatewayStore store;

    private PolicyGateway(Path dataDir, RemoteOperations remote, DataDir.Lock lock) {
        this.dataDir = dataDir;
        this.remote = remote;
        this.lock = lock;
    }

    static PolicyGateway open(DataDir dataDir) {
        if (dataDir.remoteGateway() != null) {
            return new PolicyGateway(dataDir.path(), RemoteOperations.connect(dataDir), null);
        }
        if (!Files.isDirectory(dataDir.path())) {
            throw CliException.badInput("no data dir at " + dataDir.path() + " (use --data-dir or SITEWARD_HOME)");
        }
        DataDir.Lock lock = DataDir.tryLock(dataDir);
        if (lock == null) {
            return new PolicyGateway(dataDir.path(), RemoteOperations.connect(dataDir), null);
        }
        return new PolicyGateway(dataDir.path(), null, lock);
    }

    boolean remote() {
        return remote != null;
    }

    private PolicyService service() {
        if (local == null) {
            try {
                local = new PolicyService(dataDir, AuthorizationBeans.policyRoots(dataDir), Clock.systemUTC());
            } catch (IOException e) {
                throw new CliException(CliException.INTERNAL, "cannot open the policy state in " + dataDir + ": "
                        + e.getMessage(), e);
            }
        }
        return local;
    }

    private PolicyAdminOperations operations() {
        try {
            if (store == null) {
                store = GatewayStore.openEmbedded(dataDir);
            }
        } catch (StoreException e) {
            throw new CliException(CliException.INTERNAL, e.getMessage(), e);
        }
        return new PolicyAdminOperations(service(), new DecisionLog(store));
    }

    /** Installs a bundle; a refusal is exit 1 with {@code code: message}. */
    JsonNode push(PolicyBundles.BundleFiles bundle) {
        if (remote != null) {
            return ok(remote.send("POST", "policy", PolicyAdminOperations.bundleToJson(bundle)), true);
        }
        try {
            return JSON.valueToTree(new PolicyAdminOperations(service(), null).push(bundle, "push (local)"));
        } catch (PolicyAdminOperations.BundleRefused e) {
            throw new CliException(e.status() == 400 ? CliException.BAD_INPUT : CliException.CHECK_FAILED,
                    e.bundleException().toString());
        }
    }

    JsonNode status() {
        if (remote != null) {
            return ok(remote.send("GET", "policy", null), false);
        }
        return JSON.valueToTree(service().status());
    }

    String mode(String set) {
        if (remote != null) {
            JsonNode r = set == null ? ok(remote.send("GET", "policy/mode", null), false)
                    : ok(remote.send("POST", "policy/mode", Map.of("mode", set)), false);
            return r.path("mode").asText();
        }
        if (set != null) {
            try {
                service().setSiteMode(set, "cli:" + System.getProperty("user.name", "local"));
            } catch (IllegalArgumentException e) {
                throw CliException.badInput(e.getMessage());
            } catch (IOException e) {
                throw new CliException(CliException.INTERNAL, "cannot persist the site mode: " + e.getMessage(), e);
            }
        }
        return service().siteMode();
    }

    JsonNode explain(Map<String, Object> request) {
        if (remote != null) {
            return ok(remote.send("POST", "policy/explain", request), false);
        }
        try {
            return JSON.valueToTree(operations().explain(JSON.valueToTree(request)));
        } catch (GatewayException e) {
            throw new CliException(e.reason().status() == 409 ? CliException.CHECK_FAILED : CliException.BAD_INPUT,
                    e.getMessage());
        }
    }

    List<Map<String, Object>> decisions(int days) {
        if (remote != null) {
            JsonNode r = ok(remote.send("GET", "policy/decisions?days=" + days, null), false);
            return JSON.convertValue(r, new TypeReference<List<Map<String, Object>>>() { });
        }
        try {
            return operations().decisions(Clock.systemUTC().instant().minus(Duration.ofDays(days)));
        } catch (StoreException e) {
            throw new CliException(CliException.INTERNAL, e.getMessage(), e);
        }
    }

    /** The body of a 2xx answer; an error answer becomes a CLI failure naming its code. */
    private static JsonNode ok(RemoteOperations.Answer a, boolean bundleRefusal) {
        if (a.status() < 300) {
            return a.body();
        }
        String code = a.body().path("code").asText("gateway." + a.status());
        String message = a.body().path("message").asText("gateway answered " + a.status());
        int exit = a.status() == 401 || a.status() == 403 ? CliException.UNREACHABLE
                : a.status() >= 500 ? CliException.INTERNAL
                : bundleRefusal && (a.status() == 409 || a.status() == 422) ? CliException.CHECK_FAILED
                : a.status() == 409 ? CliException.CHECK_FAILED : CliException.BAD_INPUT;
        throw new CliException(exit, code + ": " + message);
    }

    @Override
    public void close() {
        if (store != null) {
            store.close();
        }
        if (lock != null) {
            lock.close();
        }
    }
}
