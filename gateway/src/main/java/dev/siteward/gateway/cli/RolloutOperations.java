package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.models.ModelException;
import dev.siteward.gateway.rollout.FleetHealth;
import dev.siteward.gateway.rollout.HealthCriteria;
import dev.siteward.gateway.rollout.Rollout;
import dev.siteward.gateway.rollout.RolloutService;
import dev.siteward.gateway.store.DatabaseSettings;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Rollout and fleet-health commands. Rollouts run inside the gateway (its scheduler judges them), so changes go
 * through the running gateway's admin API ({@code /v1/admin/rollouts}); with the gateway stopped, status and fleet
 * health are read from the data dir and changes are refused (exit 3).
 */
abstract class RolloutOperations implements AutoCloseable {

    static final ObjectMapper JSON = ModelOperations.JSON;

    abstract JsonNode start(Map<String, Object> body) throws Exception;

    abstract JsonNode status(String id) throws Exception;

    abstract JsonNode list() throws Exception;

    abstract JsonNode act(String id, String action) throws Exception;

    abstract JsonNode fleetHealth() throws Exception;

    @Override
    public abstract void close();

    static RolloutOperations open(DataDir dataDir) {
        DataDir.Lock lock = DataDir.lockUnlessRemote(dataDir);
        if (lock == null) {
            RemoteOperations remote = RemoteOperations.connect(dataDir);
            return new Remote(remote.client(), remote.base());
        }
        if (!dev.siteward.pki.ca.SiteCa.exists(dataDir.path())) {
            lock.close();
            throw CliException.badInput("no site CA in " + dataDir.path() + ": run 'siteward serve' or 'siteward ca "
                    + "init' first");
        }
        try {
            return new Local(dataDir.path(), lock);
        } catch (StoreException e) {
            lock.close();
            throw new CliException(CliException.INTERNAL, e.getMessage(), e);
        }
    }

    static final class Local extends RolloutOperations {
        private final DataDir.Lock lock;
        private final GatewayStore store;
        private final RolloutService rollouts;
        private final FleetHealth fleet;

        Local(Path dataDir, DataDir.Lock lock) throws StoreException {
            this.lock = lock;
            this.store = GatewayStore.open(dataDir, DatabaseSettings.resolve(dataDir));
            Clock clock = Clock.systemUTC();
            this.rollouts = new RolloutService(store, AuditTrail.NONE, clock, HealthCriteria.DEFAULTS, (m, v) -> false);
            this.fleet = new FleetHealth(store, clock, HealthCriteria.DEFAULTS);
        }

        private static CliException stopped() {
            return new CliException(CliException.UNREACHABLE, "the gateway is not running: rollouts run inside it, "
                    + "start it with 'siteward serve' and run the command again");
        }

        @Override
        JsonNode start(Map<String, Object> body) {
            throw stopped();
        }

        @Override
        JsonNode act(String id, String action) {
            throw stopped();
        }

        @Override
        JsonNode status(String id) throws Exception {
            try {
                return JSON.valueToTree(rollouts.status(id));
            } catch (ModelException e) {
                throw ModelOperations.failure(e);
            }
        }

        @Override
        JsonNode list() throws Exception {
            List<RolloutService.RolloutStatus> out = new ArrayList<>();
            for (Rollout r : rollouts.list(100)) {
                out.add(rollouts.status(r.id()));
            }
            return JSON.valueToTree(out);
        }

        @Override
        JsonNode fleetHealth() throws Exception {
            return JSON.valueToTree(fleet.all());
        }

        @Override
        public void close() {
            store.close();
            lock.close();
        }
    }

    static final class Remote extends RolloutOperations {
        private final HttpClient client;
        private final URI base;

        Remote(HttpClient client, URI base) {
            this.client = client;
            this.base = base;
        }

        private JsonNode send(HttpRequest.Builder b) {
            return AdminHttp.send(client, base, b, Duration.ofMinutes(2), true);
        }

        private JsonNode post(String path, Object body) throws IOException {
            return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        }

        private JsonNode get(String path) {
            return send(HttpRequest.newBuilder(base.resolve(path)).GET());
        }

        @Override
        JsonNode start(Map<String, Object> body) throws IOException {
            return post("rollouts", body);
        }

        @Override
        JsonNode status(String id) {
            return get("rollouts/" + id);
        }

        @Override
        JsonNode list() {
            return get("rollouts");
        }

        @Override
        JsonNode act(String id, String action) throws IOException {
            return post("rollouts/" + id + "/" + action, Map.of());
        }

        @Override
        JsonNode fleetHealth() {
            return get("fleet/health");
        }

        @Override
        public void close() {
            // java.net.http.HttpClient (Java 17) holds no resources that need closing
        }
    }
}
