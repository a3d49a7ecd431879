package dev.siteward.gateway.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.siteward.gateway.admins.Admin;
import dev.siteward.gateway.admins.AdminCredential;
import dev.siteward.gateway.audit.AuditVerification;
import dev.siteward.gateway.devices.Device;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * The CLI's operations through a running gateway's admin API (mTLS on the device listener), authenticated with the
 * admin credential in {@code <data-dir>/admin/} and trusting only the site root.
 */
final class RemoteOperations implements GatewayOperations {

    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final HttpClient client;
    private final URI base;
    private final String advertised;

    private RemoteOperations(HttpClient client, URI base, String advertised) {
        this.client = client;
        this.base = base;
        this.advertised = advertised;
    }

    /**
     * Through a running gateway, as the admin of {@code --admin-dir} or the bootstrap admin: the gateway named by
     * {@code --gateway-url} (or {@code SITEWARD_GATEWAY_URL}, or the bundle's {@code gateway.url}), else the one
     * holding the data dir, found through its {@code gateway/endpoints.json}.
     */
    static RemoteOperations connect(DataDir dataDir) {
        java.net.URI url = dataDir.remoteGateway();
        if (url != null) {
            return connect(url, dataDir.adminDir(), dataDir.namedAdminDir());
        }
        return connect(dataDir.path(), dataDir.adminDir(), dataDir.namedAdminDir());
    }

    /** Through the gateway holding {@code dataDir}, as the admin of {@code SITEWARD_ADMIN_DIR} or the bootstrap. */
    static RemoteOperations connect(Path dataDir) {
        Path admin = DataDir.adminDirOf(null, dataDir);
        return connect(dataDir, admin, !admin.equals(dataDir.resolve("admin")));
    }

    private static RemoteOperations connect(Path dataDir, Path admin, boolean named) {
        requireBundle(admin, named);
        String deviceUrl;
        try {
            deviceUrl = JSON.readTree(dataDir.resolve("gateway/endpoints.json").toFile()).get("deviceUrl").asText();
        } catch (IOException | RuntimeException e) {
            throw new CliException(CliException.UNREACHABLE, "a gateway holds " + dataDir + " but its endpoints "
                    + "are unreadable (" + e.getMessage() + "); use --gateway-url https://host:9443");
        }
        return new RemoteOperations(client(admin, named, dataDir.toString()),
                URI.create(deviceUrl + "/v1/admin/"), advertisedUrl(dataDir));
    }

    /** To the gateway at {@code url} (its device listener), pinned to the bundle's {@code root.pem}. */
    private static RemoteOperations connect(URI url, Path admin, boolean named) {
        if (!named && !Files.isDirectory(admin)) {
            throw CliException.badInput("--gateway-url needs an admin credential bundle: --admin-dir DIR or "
                    + DataDir.ADMIN_DIR_ENV);
        }
        requireBundle(admin, true);
        return new RemoteOperations(client(admin, true, url.toString()), url.resolve("/v1/admin/"), url.toString());
    }

    private static void requireBundle(Path admin, boolean named) {
        if (named) {
            for (String f : List.of("admin.pem", "admin-key.pem", "root.pem")) {
                if (!Files.isReadable(admin.resolve(f))) {
                    throw CliException.badInput("the admin credential bundle " + admin + " has no readable " + f
                            + " (use the directory 'siteward admin add --out' wrote)");
                }
            }
        }
    }

    /**
     * An HTTP client presenting the bundle's admin certificate and trusting only the bundle's {@code root.pem}: the
     * gateway's server certificate must chain to the site root and name the host connected to.
     */
    private static HttpClient client(Path admin, boolean named, String target) {
        try {
            List<X509Certificate> chain = PemCodec.parseCertificates(Files.readString(admin.resolve("admin.pem")));
            PrivateKey key = KeyMaterial.readPrivateKey(Files.readString(admin.resolve("admin-key.pem")));
            // every root of the file is trusted: during a root rollover it holds the old and the new root
            List<X509Certificate> roots = PemCodec.parseCertificates(Files.readString(admin.resolve("root.pem")));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("admin", key, new char[0], chain.toArray(new X509Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            for (int i = 0; i < roots.size(); i++) {
                ts.setCertificateEntry("root-" + i, roots.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            SSLParameters params = new SSLParameters();
            params.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            return HttpClient.newBuilder().sslContext(ssl).sslParameters(params)
                    .connectTimeout(Duration.ofSeconds(5)).build();
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            throw new CliException(named ? CliException.BAD_INPUT : CliException.UNREACHABLE, "cannot use "
                    + (named ? "the admin credential bundle " + admin : "the admin credential of " + target)
                    + ": " + e.getMessage());
        }
    }

    /**
     * The URL admins on other machines use for the gateway holding {@code dataDir}: its advertised host and device
     * port from {@code gateway/endpoints.json} (written by {@code serve}; kept after it stops), or null.
     */
    static String advertisedUrl(Path dataDir) {
        try {
            JsonNode e = JSON.readTree(dataDir.resolve("gateway/endpoints.json").toFile());
            String host = e.path("advertisedHost").asText("");
            int port = URI.create(e.path("deviceUrl").asText("")).getPort();
            if (host.isBlank() || port <= 0) {
                return null;
            }
            return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public String gatewayUrl() {
        return advertised;
    }

    /** One line for a failed exchange with the gateway (exit 3). */
    private CliException transportFailure(IOException e) {
        String at = base.resolve("/").toString().replaceAll("/$", "");
        if (e instanceof javax.net.ssl.SSLException || e.getCause() instanceof javax.net.ssl.SSLException) {
            return new CliException(CliException.UNREACHABLE, "TLS with " + at + " failed: the server's certificate "
                    + "must chain to the bundle's root.pem and name host '" + base.getHost() + "', and the gateway "
                    + "must accept the admin certificate (" + e.getMessage() + ")");
        }
        if (e instanceof ConnectException || e instanceof java.net.http.HttpConnectTimeoutException
                || e.getCause() instanceof java.net.UnknownHostException) {
            return new CliException(CliException.UNREACHABLE, "the gateway does not answer at " + at
                    + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
        }
        return new CliException(CliException.UNREACHABLE, "cannot reach the gateway at " + at + ": "
                + e.getMessage());
    }

    private JsonNode call(String method, String path, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
            if (body != null) {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode node = r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
            if (r.statusCode() >= 400) {
                String msg = node.path("message").asText("gateway answered " + r.statusCode());
                int code = r.statusCode() == 401 || r.statusCode() == 403 ? CliException.UNREACHABLE
                        : r.statusCode() >= 500 ? CliException.INTERNAL : CliException.BAD_INPUT;
                if (r.statusCode() == 404 || r.statusCode() == 409 || r.statusCode() == 400) {
                    code = CliException.BAD_INPUT;
                }
                throw new CliException(code, msg);
            }
            return node;
        } catch (IOException e) {
            throw transportFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.UNREACHABLE, "interrupted");
        }
    }

    /**
     * Sends one admin API request and returns the status and parsed body as they are, for callers that map error
     * codes themselves; only transport failures become a {@link CliException}.
     */
    Answer send(String method, String path, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
            if (body != null) {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body()));
        } catch (IOException e) {
            throw transportFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.UNREACHABLE, "interrupted");
        }
    }

    /** An admin API answer: HTTP status and JSON body. */
    record Answer(int status, JsonNode body) {
    }

    private static <T> T as(JsonNode node, Class<T> type) throws IOException {
        return JSON.treeToValue(node, type);
    }

    @Override
    public String createToken(String deviceId, Map<String, String> labels, Duration ttl) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("deviceId", deviceId);
        body.put("labels", labels);
        if (ttl != null) {
            body.put("ttl", DurationText.format(ttl));
        }
        return call("POST", "tokens", body).get("token").asText();
    }

    @Override
    public List<Device> listDevices() throws IOException {
        return JSON.convertValue(call("GET", "devices", null), new TypeReference<List<Device>>() { });
    }

    @Override
    public Device showDevice(String id) throws IOException {
        return as(call("GET", "devices/" + id, null), Device.class);
    }

    @Override
    public Device register(String id, String idevidSerial, Map<String, String> labels) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("idevidSerial", idevidSerial);
        body.put("labels", labels);
        return as(call("POST", "devices", body), Device.class);
    }

    @Override
    public Device label(String id, Map<String, String> labels) throws IOException {
        return as(call("POST", "devices/" + id + "/labels", Map.of("labels", labels)), Device.class);
    }

    @Override
    public Device suspend(String id) throws IOException {
        return as(call("POST", "devices/" + id + "/suspend", null), Device.class);
    }

    @Override
    public Device resume(String id) throws IOException {
        return as(call("POST", "devices/" + id + "/resume", null), Device.class);
    }

    @Override
    public List<Map<String, String>> revokeDevice(String id, String reason) {
        return JSON.convertValue(call("POST", "devices/" + id + "/revoke", Map.of("reason", reason)),
                new TypeReference<List<Map<String, String>>>() { });
    }

    @Override
    public Map<String, String> revokeSerial(String serial, String reason) {
        return JSON.convertValue(call("POST", "certificates/" + serial + "/revoke", Map.of("reason", reason)),
                new TypeReference<Map<String, String>>() { });
    }

    @Override
    public List<Admin> listAdmins() {
        return JSON.convertValue(call("GET", "admins", null), new TypeReference<List<Admin>>() { });
    }

    @Override
    public AdminCredential addAdmin(String name, String role, byte[] csrDer, Duration ttl) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("role", role);
        body.put("csr", java.util.Base64.getEncoder().encodeToString(csrDer));
        body.put("ttl", ttl == null ? null : DurationText.format(ttl));
        return as(call("POST", "admins", body), AdminCredential.class);
    }

    @Override
    public AdminCredential renewAdmin(String name, byte[] csrDer, Duration ttl) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("csr", java.util.Base64.getEncoder().encodeToString(csrDer));
        body.put("ttl", ttl == null ? null : DurationText.format(ttl));
        return as(call("POST", "admins/" + name + "/renew", body), AdminCredential.class);
    }

    @Override
    public Admin revokeAdmin(String name, String reason) throws IOException {
        return as(call("POST", "admins/" + name + "/revoke", Map.of("reason", reason)), Admin.class);
    }

    @Override
    public dev.siteward.gateway.lifecycle.ExpiryWatch.Report status(Duration window) throws IOException {
        return as(call("GET", "status?window=" + DurationText.format(window), null),
                dev.siteward.gateway.lifecycle.ExpiryWatch.Report.class);
    }

    @Override
    public dev.siteward.gateway.time.TimeGuard.Status timeStatus() throws IOException {
        return as(call("GET", "time", null), dev.siteward.gateway.time.TimeGuard.Status.class);
    }

    @Override
    public dev.siteward.gateway.time.TimeGuard.Status acceptTime() throws IOException {
        return as(call("POST", "time/accept", null), dev.siteward.gateway.time.TimeGuard.Status.class);
    }

    @Override
    public AuditVerification verifyAudit() {
        JsonNode n = call("GET", "audit/verify", null);
        return new AuditVerification(n.path("intact").asBoolean(), n.path("position").asLong(),
                n.path("problem").isNull() ? null : n.path("problem").asText(), n.path("firstSeq").asLong(),
                n.path("lastSeq").asLong(), n.path("records").asLong(), n.path("checkpoints").asLong(),
                n.path("headSeq").asLong(), n.path("recoveries").asLong());
    }

    @Override
    public long exportAudit(java.time.Instant since, java.io.OutputStream out) throws IOException {
        try {
            HttpResponse<java.io.InputStream> r = client.send(HttpRequest.newBuilder(base.resolve("audit/export?since="
                    + since)).timeout(Duration.ofMinutes(10)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() >= 400) {
                String body;
                try (java.io.InputStream in = r.body()) {
                    body = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
                String msg = body.isBlank() ? "gateway answered " + r.statusCode()
                        : JSON.readTree(body).path("message").asText("gateway answered " + r.statusCode());
                throw new CliException(r.statusCode() < 500 ? CliException.BAD_INPUT : CliException.INTERNAL, msg);
            }
            try (java.io.InputStream in = r.body()) {
                in.transferTo(out);
            }
            return r.headers().firstValueAsLong("X-Siteward-Audit-Records").orElse(-1);
        } catch (ConnectException | javax.net.ssl.SSLException | java.net.http.HttpConnectTimeoutException e) {
            throw transportFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.UNREACHABLE, "interrupted");
        }
    }

    @Override
    public void backup(Path file, char[] passphrase) throws IOException {
        try {
            HttpRequest request = HttpRequest.newBuilder(base.resolve("backup")).timeout(Duration.ofHours(2))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("passphrase",
                            new String(passphrase))))).build();
            HttpResponse<Path> r = client.send(request, HttpResponse.BodyHandlers.ofFile(file));
            if (r.statusCode() >= 400) {
                JsonNode node = JSON.readTree(Files.readString(file));
                Files.deleteIfExists(file);
                throw new CliException(r.statusCode() == 403 ? CliException.UNREACHABLE : r.statusCode() >= 500
                        ? CliException.INTERNAL : CliException.BAD_INPUT, node.path("message")
                        .asText("gateway answered " + r.statusCode()));
            }
        } catch (ConnectException | javax.net.ssl.SSLException | java.net.http.HttpConnectTimeoutException e) {
            throw transportFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.UNREACHABLE, "interrupted");
        }
    }

    @Override
    public long exportData(String dataClass, java.time.Instant since, java.io.OutputStream out) throws IOException {
        try {
            HttpResponse<java.io.InputStream> r = client.send(HttpRequest.newBuilder(base.resolve("data/export?class="
                    + java.net.URLEncoder.encode(dataClass, java.nio.charset.StandardCharsets.UTF_8) + "&since="
                    + since)).timeout(Duration.ofMinutes(10)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() >= 400) {
                String body;
                try (java.io.InputStream in = r.body()) {
                    body = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
                String msg = body.isBlank() ? "gateway answered " + r.statusCode()
                        : JSON.readTree(body).path("message").asText("gateway answered " + r.statusCode());
                throw new CliException(r.statusCode() < 500 ? CliException.BAD_INPUT : CliException.INTERNAL, msg);
            }
            try (java.io.InputStream in = r.body()) {
                in.transferTo(out);
            }
            return r.headers().firstValueAsLong("X-Siteward-Export-Lines").orElse(-1);
        } catch (ConnectException | javax.net.ssl.SSLException | java.net.http.HttpConnectTimeoutException e) {
            throw transportFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.UNREACHABLE, "interrupted");
        }
    }

    @Override
    public dev.siteward.gateway.retention.RetentionReport.Report retentionReport() throws IOException {
        return as(call("GET", "retention/report", null), dev.siteward.gateway.retention.RetentionReport.Report.class);
    }

    /** Runs the purge now in the running gateway. */
    JsonNode purgeNow() {
        return call("POST", "retention/purge", null);
    }

    /** Issues a certificate through the admin API; returns the PEM chain, leaf first. */
    String issue(byte[] csrDer, dev.siteward.pki.CertificateProfile profile, String name, List<String> dns,
                 List<String> ips, String ttl, String role) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("csr", java.util.Base64.getEncoder().encodeToString(csrDer));
        body.put("profile", profile.cliName());
        body.put("name", name);
        body.put("dns", dns);
        body.put("ips", ips);
        body.put("ttl", ttl);
        body.put("role", role);
        return call("POST", "certificates", body).get("pem").asText();
    }

    /** Rotates the issuing CA in the running gateway; returns its new subject. */
    String rotate() {
        return call("POST", "ca/rotate", null).get("subject").asText();
    }

    /** Rolls the root over in the running gateway; returns the answer (rootGeneration, rootFingerprint, issuing). */
    JsonNode rotateRoot(String rootTtl) {
        java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("rootTtl", rootTtl);
        return call("POST", "ca/rotate-root", body);
    }

    /** Retires the earlier roots in the running gateway; returns how many unexpired certificates were cut off. */
    int retireRoot(boolean force) {
        return call("POST", "ca/retire-root", java.util.Map.of("force", force)).get("certificatesCutOff").asInt();
    }

    /** The issuing CA's (or root's) current CRL, PEM. */
    String crl(boolean root) {
        return call("GET", "crl" + (root ? "?root=true" : ""), null).get("pem").asText();
    }

    /** The mTLS client with the admin credential (for other command families' admin routes). */
    HttpClient client() {
        return client;
    }

    /** The admin API's base URI, {@code .../v1/admin/}. */
    URI base() {
        return base;
    }

    @Override
    public void close() {
        // java.net.http.HttpClient (Java 17) holds no resources that need closing
    }
}
