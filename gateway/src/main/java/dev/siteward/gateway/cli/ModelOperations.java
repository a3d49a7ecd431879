package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.models.BlobStore;
import dev.siteward.gateway.models.ModelAdminController;
import dev.siteward.gateway.models.ModelException;
import dev.siteward.gateway.models.ModelFiles;
import dev.siteward.gateway.models.ModelRepository;
import dev.siteward.gateway.models.ModelsConfiguration;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model repository commands, on the data dir directly (gateway stopped) or through the running gateway's admin
 * API ({@code /v1/admin/models/...}), where each model file is streamed as one raw request body. Results are JSON
 * trees in the admin API's shapes, so both paths print the same.
 */
abstract class ModelOperations implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper().registerModule(
            new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
            .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    abstract JsonNode publish(Path model, Path signatureFile, byte[] signature, String name, long version)
            throws Exception;

    abstract JsonNode release(String name, long version, String channel, List<String> classes) throws Exception;

    abstract JsonNode withdraw(byte[] signature) throws Exception;

    abstract JsonNode list() throws Exception;

    @Override
    public abstract void close();

    /** Local when the data dir's lock is free, else remote through the gateway holding it. */
    static ModelOperations open(DataDir dataDir) {
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
        } catch (StoreException | IOException e) {
            lock.close();
            throw new CliException(CliException.INTERNAL, e.getMessage(), e);
        }
    }

    /** Maps a repository refusal to the CLI: security refusals exit 1 with their code, bad input 2. */
    static CliException failure(ModelException e) {
        return switch (e.kind()) {
            case REFUSED -> new CliException(CliException.CHECK_FAILED, e.code() + ": " + e.getMessage());
            case INTERNAL -> new CliException(CliException.INTERNAL, e.getMessage(), e);
            default -> CliException.badInput(e.getMessage());
        };
    }

    static final class Local extends ModelOperations {
        private final DataDir.Lock lock;
        private final GatewayStore store;
        private final ModelRepository repository;

        Local(Path dataDir, DataDir.Lock lock) throws StoreException, IOException {
            this.lock = lock;
            this.store = GatewayStore.openEmbedded(dataDir);
            this.repository = new ModelRepository(store, new BlobStore(dataDir), dataDir, Clock.systemUTC(),
                    ModelsConfiguration.DEFAULT_MAX_FILE_SIZE);
        }

        @Override
        JsonNode publish(Path model, Path signatureFile, byte[] signature, String name, long version)
                throws Exception {
            try {
                return JSON.valueToTree(repository.publishLocal(model, signatureFile, name, version, signature));
            } catch (ModelException e) {
                throw failure(e);
            }
        }

        @Override
        JsonNode release(String name, long version, String channel, List<String> classes) throws Exception {
            try {
                return JSON.valueToTree(repository.release(name, version, channel, classes));
            } catch (ModelException e) {
                throw failure(e);
            }
        }

        @Override
        JsonNode withdraw(byte[] signature) throws Exception {
            try {
                return JSON.valueToTree(ModelAdminController.withdrawn(repository.withdraw(signature)));
            } catch (ModelException e) {
                throw failure(e);
            }
        }

        @Override
        JsonNode list() throws Exception {
            return JSON.valueToTree(repository.list());
        }

        @Override
        public void close() {
            store.close();
            lock.close();
        }
    }

    static final class Remote extends ModelOperations {
        private final HttpClient client;
        private final URI base;

        Remote(HttpClient client, URI base) {
            this.client = client;
            this.base = base;
        }

        private JsonNode send(HttpRequest.Builder b) {
            return AdminHttp.send(client, base, b, Duration.ofHours(2), false);
        }

        private JsonNode post(String path, Object body) throws IOException {
            return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        }

        @Override
        JsonNode publish(Path model, Path signatureFile, byte[] signature, String name, long version)
                throws Exception {
            boolean singleFile = Files.isRegularFile(model, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (!singleFile && !Files.isDirectory(model, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                if (Files.isSymbolicLink(model)) {
                    throw new CliException(CliException.CHECK_FAILED, "modelsig.path_refused: " + model
                            + " is a symbolic link");
                }
                throw new NoSuchFileException(model.toString());
            }
            List<String> files;
            try {
                files = singleFile ? List.of(model.getFileName().toString()) : ModelFiles.list(model, signatureFile);
            } catch (ModelException e) {
                throw failure(e);
            }
            String upload = post("models/uploads", Map.of()).get("upload").asText();
            boolean published = false;
            try {
                for (String f : files) {
                    Path p = singleFile ? model : model.resolve(f);
                    send(HttpRequest.newBuilder(base.resolve("models/uploads/" + upload + "/files?path="
                                    + URLEncoder.encode(f, StandardCharsets.UTF_8).replace("+", "%20")))
                            .header("Content-Type", "application/octet-stream")
                            .version(HttpClient.Version.HTTP_1_1)
                            .PUT(HttpRequest.BodyPublishers.ofFile(p)));
                }
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("upload", upload);
                body.put("name", name);
                body.put("version", version);
                body.put("signature", Base64.getEncoder().encodeToString(signature));
                body.put("singleFile", singleFile);
                JsonNode result = post("models/publish", body);
                published = true;
                return result;
            } finally {
                if (!published) {
                    try {
                        send(HttpRequest.newBuilder(base.resolve("models/uploads/" + upload)).DELETE());
                    } catch (CliException ignored) {
                        // the publish call removes the upload anyway; a restart removes every upload
                    }
                }
            }
        }

        @Override
        JsonNode release(String name, long version, String channel, List<String> classes) throws IOException {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("version", version);
            body.put("channel", channel);
            body.put("classes", classes);
            return post("models/release", body);
        }

        @Override
        JsonNode withdraw(byte[] signature) throws IOException {
            return post("models/withdrawals", Map.of("signature", Base64.getEncoder().encodeToString(signature)));
        }

        @Override
        JsonNode list() {
            return send(HttpRequest.newBuilder(base.resolve("models")).GET());
        }

        @Override
        public void close() {
            // nothing held
        }
    }
}
