package dev.siteward.pki.modelsig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A model's name and the SHA-256 of each of its files, in manifest order (see {@link ResourceNames#ORDER}), plus the
 * paths its signer left out ({@code ignore_paths}, empty when the signature records none).
 */
public final class ModelManifest {

    private final String modelName;
    private final Map<String, String> digests;
    private final List<String> ignorePaths;

    ModelManifest(String modelName, Map<String, String> digests, List<String> ignorePaths) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.digests = Collections.unmodifiableMap(new LinkedHashMap<>(digests));
        this.ignorePaths = List.copyOf(ignorePaths);
    }

    /** Builds a manifest from computed digests, sorting the names into manifest order. */
    static ModelManifest sorted(String modelName, Map<String, String> digests, List<String> ignorePaths) {
        TreeMap<String, String> sorted = new TreeMap<>(ResourceNames.ORDER);
        sorted.putAll(digests);
        return new ModelManifest(modelName, sorted, ignorePaths);
    }

    /** Returns the model name (the statement's subject name). */
    public String modelName() {
        return modelName;
    }

    /** Returns resource name to SHA-256 (lower-case hex), in manifest order. */
    public Map<String, String> digests() {
        return digests;
    }

    /** Returns the paths the signer left out, relative to the model root (empty when none are recorded). */
    public List<String> ignorePaths() {
        return ignorePaths;
    }

    /** Returns the number of files. */
    public int fileCount() {
        return digests.size();
    }

    /**
     * Returns the subject digest: SHA-256 over the concatenated raw (not hex) resource digests in manifest order.
     */
    public String rootDigest() {
        var md = FileHasher.sha256();
        HexFormat hex = HexFormat.of();
        for (String d : digests.values()) {
            md.update(hex.parseHex(d));
        }
        return hex.formatHex(md.digest());
    }

    /** Returns the per-file differences between this (signed) manifest and {@code actual}, sorted by name. */
    List<FileDifference> differencesTo(Map<String, String> actual) {
        TreeMap<String, FileDifference> out = new TreeMap<>(ResourceNames.ORDER);
        for (Map.Entry<String, String> e : digests.entrySet()) {
            String got = actual.get(e.getKey());
            if (got == null) {
                out.put(e.getKey(), new FileDifference(e.getKey(), FileDifference.Kind.MISSING, e.getValue(), null));
            } else if (!got.equals(e.getValue())) {
                out.put(e.getKey(), new FileDifference(e.getKey(), FileDifference.Kind.DIGEST_DIFFERS, e.getValue(),
                        got));
            }
        }
        for (Map.Entry<String, String> e : actual.entrySet()) {
            if (!digests.containsKey(e.getKey())) {
                out.put(e.getKey(), new FileDifference(e.getKey(), FileDifference.Kind.EXTRA, null, e.getValue()));
            }
        }
        return new ArrayList<>(out.values());
    }

    @Override
    public String toString() {
        return "ModelManifest[" + modelName + ", " + digests.size() + " files]";
    }
}
