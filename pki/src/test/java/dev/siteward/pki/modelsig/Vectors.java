package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Locates the OpenSSF model-signing interop vectors in {@code <siteward.shared.dir>/interop/oms-v1}. Where they are
 * absent the calling test is skipped, except with {@code CI=true}, where absence fails.
 */
final class Vectors {

    private Vectors() {
    }

    static Path dir() {
        String shared = System.getProperty("siteward.shared.dir");
        Path dir = shared == null ? null : Path.of(shared, "interop", "oms-v1");
        boolean present = dir != null && Files.isDirectory(dir);
        if (!present) {
            String message = "OpenSSF model-signing vectors not found at " + dir
                    + " (set -Dsiteward.shared.dir to the folder holding interop/oms-v1)";
            if ("true".equals(System.getenv("CI"))) {
                fail(message);
            }
            assumeTrue(false, message);
        }
        return dir;
    }

    static String read(String relative) throws IOException {
        return Files.readString(dir().resolve(relative));
    }

    /** Copies a vector folder into {@code target} (files made writable) and returns the copy. */
    static Path copy(String folder, Path target) throws IOException {
        Path src = dir().resolve(folder);
        Path dst = target.resolve(folder);
        Files.createDirectories(dst);
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.toList()) {
                Path d = dst.resolve(p.getFileName().toString());
                Files.write(d, Files.readAllBytes(p));
            }
        }
        return dst;
    }

    static List<java.security.cert.X509Certificate> root() throws IOException {
        return KeyMaterial.readCertificates(read("keys/ca-cert.pem"));
    }

    static java.security.PublicKey publicKey() throws IOException {
        return KeyMaterial.readPublicKey(read("keys/signing-key-pub.pem"));
    }
}
