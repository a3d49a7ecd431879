package dev.siteward.gateway.models;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.gateway.trust.PublisherTrust;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Signs the documents devices fetch (docs/model-releases.md): the trust document (which publisher roots may sign
 * which model names) and each device's release metadata. Versions are kept in the database, so they only ever grow,
 * across restarts: a device's document gets a new version when what it lists changes or when less than half of its
 * validity is left; otherwise the stored version is signed again with the same content and times.
 */
public final class ReleaseMetadata {

    public static final String TRUST_TYPE = "siteward-model-trust";
    public static final String RELEASE_TYPE = "siteward-release";
    static final String TRUST_DOCUMENT = "trust";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Labels of a device (empty when unknown). */
    @FunctionalInterface
    public interface DeviceLabels {
        Map<String, String> of(String deviceId) throws StoreException;
    }

    /** A signed document, its version and (for release metadata) every blob digest it lists. */
    public record Document(long version, String jws, Set<String> digests, X509Certificate signedBy) {
    }

    private final GatewayStore store;
    private final ModelRepository repository;
    private final ReleaseKey key;
    private final DeviceLabels labels;
    private final Clock clock;
    private final Duration validity;
    private final Map<String, Document> cache = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public ReleaseMetadata(GatewayStore store, ModelRepository repository, ReleaseKey key, DeviceLabels labels,
                           Clock clock, Duration validity) {
        if (validity.isNegative() || validity.isZero()) {
            throw new IllegalArgumentException("metadata validity must be positive");
        }
        this.store = store;
        this.repository = repository;
        this.key = key;
        this.labels = labels;
        this.clock = clock;
        this.validity = validity;
    }

    /** The trust document, signed; a new version whenever the publishers' model rules or roots change. */
    public synchronized Document trust() throws ModelException, StoreException {
        PublisherTrust trust = repository.trust();
        List<Map<String, Object>> publishers = new ArrayList<>();
        for (PublisherTrust.Publisher p : trust.publishers()) {
            if (p.models().isEmpty()) {
                continue;
            }
            List<String> roots = new ArrayList<>();
            for (X509Certificate c : p.roots()) {
                roots.add(der(c));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.name());
            m.put("models", p.models());
            m.put("roots", roots);
            publishers.add(m);
        }
        String content = sha256(json(publishers));
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        State state = store.inTransaction(c -> {
            State s = document(c, TRUST_DOCUMENT);
            if (s == null || !s.content().equals(content)) {
                s = new State(s == null ? 1 : s.version() + 1, content, now, null);
                saveDocument(c, TRUST_DOCUMENT, s);
            }
            return s;
        });
        Document cached = cache.get("\0trust");
        X509Certificate leaf = key.chain().get(0);
        if (cached != null && cached.version() == state.version() && cached.signedBy().equals(leaf)) {
            return cached;
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("type", TRUST_TYPE);
        payload.put("version", state.version());
        payload.put("issued", state.issued().toString());
        payload.put("publishers", publishers);
        Document doc = new Document(state.version(), key.sign(TRUST_TYPE + "+jwt", json(payload)), Set.of(), leaf);
        cache.put("\0trust", doc);
        return doc;
    }

    /** The release metadata of one device, signed; requests of one device are served one at a time. */
    public Document metadata(String deviceId) throws ModelException, StoreException, IOException {
        synchronized (locks.computeIfAbsent(deviceId, k -> new Object())) {
            return metadataLocked(deviceId);
        }
    }

    private Document metadataLocked(String deviceId) throws ModelException, StoreException, IOException {
        long trustVersion = trust().version();
        Map<String, String> deviceLabels = labels.of(deviceId);
        List<ReleaseTargets.Target> targets = store.inTransaction(c -> ReleaseTargets.forDevice(c, deviceId, deviceLabels));
        List<Map<String, Object>> models = new ArrayList<>();
        List<String> withdrawals = new ArrayList<>();
        Set<String> digests = new HashSet<>();
        StringBuilder snapshot = new StringBuilder();
        for (ReleaseTargets.Target t : targets) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.model());
            m.put("version", t.version());
            m.put("channel", t.channel());
            m.put("rollbackFrom", t.rollbackFrom());
            m.put("signature", Map.of("sha256", t.signatureSha256(), "size", t.signatureSize()));
            List<Map<String, Object>> files = new ArrayList<>();
            for (ModelRepository.FileEntry f : t.files()) {
                Map<String, Object> fm = new LinkedHashMap<>();
                fm.put("path", f.path());
                fm.put("size", f.size());
                fm.put("sha256", f.sha256());
                files.add(fm);
                digests.add(f.sha256());
            }
            m.put("files", files);
            models.add(m);
            digests.add(t.signatureSha256());
            for (String w : t.withdrawalShas()) {
                withdrawals.add(Base64.getEncoder().encodeToString(Files.readAllBytes(repository.blobs().path(w))));
            }
            snapshot.append(t.model()).append(' ').append(t.version()).append(' ').append(t.signatureSha256())
                    .append('\n');
        }
        Map<String, Object> contentMap = new LinkedHashMap<>();
        contentMap.put("trustVersion", trustVersion);
        contentMap.put("models", models);
        contentMap.put("withdrawals", withdrawals);
        String content = sha256(json(contentMap));
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Document signed = cache.get(deviceId);
        X509Certificate signer = key.chain().get(0);
        State state = store.inTransaction(c -> {
            State s = deviceState(c, deviceId);
            boolean stale = s != null && !now.isBefore(s.expires().minus(validity.dividedBy(2)));
            // a document signed again (after a restart or a release key change) gets a new version: ECDSA signatures
            // differ each time, and a device refuses other bytes under the version it accepted as a replay
            boolean signedHere = s != null && signed != null && signed.version() == s.version()
                    && signed.signedBy().equals(signer);
            if (s == null || !s.content().equals(content) || stale || !signedHere) {
                s = new State(s == null ? 1 : s.version() + 1, content, now, now.plus(validity));
                saveDeviceState(c, deviceId, s);
            }
            return s;
        });
        Document cached = cache.get(deviceId);
        X509Certificate leaf = key.chain().get(0);
        if (cached != null && cached.version() == state.version() && cached.signedBy().equals(leaf)) {
            return cached;
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("type", RELEASE_TYPE);
        payload.put("device", deviceId);
        payload.put("version", state.version());
        payload.put("issued", state.issued().toString());
        payload.put("expires", state.expires().toString());
        payload.put("trustVersion", trustVersion);
        payload.put("models", models);
        payload.put("withdrawals", withdrawals);
        payload.put("snapshot", sha256(snapshot.toString().getBytes(StandardCharsets.UTF_8)));
        Document doc = new Document(state.version(), key.sign(RELEASE_TYPE + "+jwt", json(payload)),
                Set.copyOf(digests), leaf);
        cache.put(deviceId, doc);
        return doc;
    }

    /** The SHA-256 (hex) of the snapshot text of these entries: {@code name SP version SP signature LF}, by name. */
    public static String snapshot(List<String[]> nameVersionSignature) {
        StringBuilder sb = new StringBuilder();
        nameVersionSignature.stream().sorted((a, b) -> a[0].compareTo(b[0]))
                .forEach(e -> sb.append(e[0]).append(' ').append(e[1]).append(' ').append(e[2]).append('\n'));
        return sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private record State(long version, String content, Instant issued, Instant expires) {
    }

    private static State document(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT version, content_sha256, issued_at FROM "
                + "model_documents WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new State(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant(), null)
                        : null;
            }
        }
    }

    private static void saveDocument(Connection c, String name, State s) throws SQLException {
        try (PreparedStatement del = c.prepareStatement("DELETE FROM model_documents WHERE name = ?")) {
            del.setString(1, name);
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_documents (name, version, content_sha256, "
                + "issued_at) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, name);
            ps.setLong(2, s.version());
            ps.setString(3, s.content());
            ps.setTimestamp(4, Timestamp.from(s.issued()));
            ps.executeUpdate();
        }
    }

    private static State deviceState(Connection c, String device) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT version, content_sha256, issued_at, expires_at FROM "
                + "model_device_metadata WHERE device_id = ?")) {
            ps.setString(1, device);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new State(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                        rs.getTimestamp(4).toInstant()) : null;
            }
        }
    }

    private static void saveDeviceState(Connection c, String device, State s) throws SQLException {
        try (PreparedStatement del = c.prepareStatement("DELETE FROM model_device_metadata WHERE device_id = ?")) {
            del.setString(1, device);
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_device_metadata (device_id, version, "
                + "content_sha256, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, device);
            ps.setLong(2, s.version());
            ps.setString(3, s.content());
            ps.setTimestamp(4, Timestamp.from(s.issued()));
            ps.setTimestamp(5, Timestamp.from(s.expires()));
            ps.executeUpdate();
        }
    }

    static byte[] json(Object o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(byte[] b) {
        return HexFormat.of().formatHex(BlobStore.sha256().digest(b));
    }

    private static String der(X509Certificate c) {
        try {
            return Base64.getEncoder().encodeToString(c.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
