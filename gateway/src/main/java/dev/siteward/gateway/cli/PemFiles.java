package dev.siteward.gateway.cli;

import dev.siteward.pki.KeyMaterial;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Reads keys and certificates from PEM files named on the command line; a file that is missing or holds no usable
 * PEM block is bad input (exit 2), with a message naming the file and the option.
 */
final class PemFiles {

    /** Larger inputs are refused before parsing; no key or chain comes near this. */
    private static final long MAX_PEM_BYTES = 1 << 20;

    private PemFiles() {
    }

    static PrivateKey privateKey(Path file, String option) {
        try {
            return KeyMaterial.readPrivateKey(read(file, option));
        } catch (IOException | RuntimeException e) {
            throw unreadable(file, option, e);
        }
    }

    static PublicKey publicKey(Path file, String option) {
        try {
            return KeyMaterial.readPublicKey(read(file, option));
        } catch (IOException | RuntimeException e) {
            throw unreadable(file, option, e);
        }
    }

    /** Every certificate in the file, in order (at least one). */
    static List<X509Certificate> certificates(Path file, String option) {
        try {
            return KeyMaterial.readCertificates(read(file, option));
        } catch (IOException | RuntimeException e) {
            throw unreadable(file, option, e);
        }
    }

    private static String read(Path file, String option) throws IOException {
        try {
            if (Files.size(file) > MAX_PEM_BYTES) {
                throw CliException.badInput(option + " " + file + " is larger than " + MAX_PEM_BYTES + " bytes");
            }
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw CliException.badInput(option + " " + file + ": file not found");
        }
    }

    private static CliException unreadable(Path file, String option, Exception e) {
        if (e instanceof CliException c) {
            return c;
        }
        return new CliException(CliException.BAD_INPUT, option + " " + file + ": " + e.getMessage(), e);
    }
}
