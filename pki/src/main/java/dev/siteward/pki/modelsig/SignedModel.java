package dev.siteward.pki.modelsig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The result of signing a model: the manifest that was signed and the Sigstore bundle (the {@code model.sig} bytes).
 */
public final class SignedModel {

    private final ModelManifest manifest;
    private final byte[] bundle;

    SignedModel(ModelManifest manifest, byte[] bundle) {
        this.manifest = manifest;
        this.bundle = bundle.clone();
    }

    /** Returns the signed manifest. */
    public ModelManifest manifest() {
        return manifest;
    }

    /** Returns the bundle JSON bytes. */
    public byte[] bundle() {
        return bundle.clone();
    }

    /** Writes the bundle to {@code file} atomically (a temporary file beside it, then a rename). */
    public void writeTo(Path file) throws IOException {
        writeAtomically(file, bundle);
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path abs = file.toAbsolutePath();
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
