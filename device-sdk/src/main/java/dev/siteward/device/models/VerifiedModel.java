package dev.siteward.device.models;

import java.nio.file.Path;
import java.util.Map;

/**
 * An installed model read from its slot and verified in memory against its signature (and the signature's digest
 * against the accepted release): hand {@link #file} bytes to the runtime, never re-read the files from disk.
 *
 * @param files resource name to content; a single-file model has one entry named {@code .}
 */
public record VerifiedModel(String name, long version, String slot, Path folder, Map<String, byte[]> files) {

    public VerifiedModel {
        files = Map.copyOf(files);
    }

    /** The verified bytes of one file (a copy). */
    public byte[] file(String path) {
        byte[] b = files.get(path);
        if (b == null) {
            throw new IllegalArgumentException(name + " has no file " + path);
        }
        return b.clone();
    }
}
