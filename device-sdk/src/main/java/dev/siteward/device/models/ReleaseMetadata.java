package dev.siteward.device.models;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What one device should run, as the gateway signed it ({@code typ: siteward-release+jwt}, docs/model-releases.md):
 * the metadata version (strictly increasing per device), validity, the trust document version it was made with, the
 * released models, the publishers' withdrawals, and the snapshot that binds the listed versions together.
 */
public record ReleaseMetadata(String device, long version, Instant issued, Instant expires, long trustVersion,
        List<ModelRelease> models, List<byte[]> withdrawals, String snapshot) {

    /** A blob by its SHA-256 (lower-case hex) and size. */
    public record Blob(String sha256, long size) {
    }

    /** A model file: its path in the model (as the signature names it), size and SHA-256. */
    public record ReleasedFile(String path, long size, String sha256) {
        public Blob blob() {
            return new Blob(sha256, size);
        }
    }

    /**
     * One released model.
     *
     * @param rollbackFrom the version this release rolls back from (an operator's rollback), or null
     */
    public record ModelRelease(String name, long version, String channel, Long rollbackFrom, Blob signature,
            List<ReleasedFile> files) {
        public ModelRelease {
            files = List.copyOf(files);
        }
    }

    public ReleaseMetadata {
        models = List.copyOf(models);
        withdrawals = List.copyOf(withdrawals);
    }

    /** The release of {@code name}, if this document lists it. */
    public Optional<ModelRelease> model(String name) {
        return models.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /**
     * The snapshot of {@code models}: SHA-256 (lower-case hex) of one line per model, sorted by name,
     * {@code name SP version SP signature.sha256 LF}.
     */
    public static String snapshotOf(List<ModelRelease> models) {
        StringBuilder text = new StringBuilder();
        models.stream().sorted(Comparator.comparing(ModelRelease::name)).forEach(m -> text.append(m.name())
                .append(' ').append(m.version()).append(' ').append(m.signature().sha256()).append('\n'));
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads the payload of a verified release document; a malformed one is refused as not the site's. */
    static ReleaseMetadata parse(JsonNode n) throws MetadataRefusedException {
        try {
            List<ModelRelease> models = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (JsonNode m : Json.array(n, "models")) {
                String name = Json.text(m, "name");
                if (!names.add(name)) {
                    throw new IllegalArgumentException("model " + name + " is listed twice");
                }
                JsonNode rb = m.get("rollbackFrom");
                Long rollbackFrom = rb == null || rb.isNull() ? null : Json.positiveLong(m, "rollbackFrom");
                JsonNode sig = m.get("signature");
                if (sig == null || !sig.isObject()) {
                    throw new IllegalArgumentException("model " + name + " has no signature");
                }
                List<ReleasedFile> files = new ArrayList<>();
                for (JsonNode f : Json.array(m, "files")) {
                    files.add(new ReleasedFile(Json.text(f, "path"), Json.positiveLong(f, "size"),
                            Json.sha256Hex(f, "sha256")));
                }
                JsonNode channel = m.get("channel");
                models.add(new ModelRelease(name, Json.positiveLong(m, "version"),
                        channel == null || channel.isNull() ? null : channel.asText(), rollbackFrom,
                        new Blob(Json.sha256Hex(sig, "sha256"), Json.positiveLong(sig, "size")), files));
            }
            List<byte[]> withdrawals = new ArrayList<>();
            JsonNode w = n.get("withdrawals");
            if (w != null && !w.isNull()) {
                for (JsonNode b : Json.array(n, "withdrawals")) {
                    withdrawals.add(Base64.getDecoder().decode(b.asText()));
                }
            }
            return new ReleaseMetadata(Json.text(n, "device"), Json.positiveLong(n, "version"),
                    Json.instant(n, "issued"), Json.instant(n, "expires"), Json.positiveLong(n, "trustVersion"),
                    models, withdrawals, Json.sha256Hex(n, "snapshot"));
        } catch (RuntimeException e) {
            throw (MetadataRefusedException) RefusalCode.METADATA_BAD_SIGNATURE.refuse(
                    "the release metadata is malformed: " + e.getMessage());
        }
    }
}
