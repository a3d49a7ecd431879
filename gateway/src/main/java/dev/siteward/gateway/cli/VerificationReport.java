package dev.siteward.gateway.cli;

import dev.siteward.pki.modelsig.FileDifference;
import dev.siteward.pki.modelsig.VerificationFailure;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Prints a failed signature verification on stderr: {@code siteward: <reason code>: <message>}, then one line per
 * file that differs ({@code missing NAME}, {@code extra NAME}, {@code digest_differs NAME (signed sha256:..., found
 * sha256:...)}).
 */
final class VerificationReport {

    private VerificationReport() {
    }

    /** Prints the failure and returns exit code 1. */
    static int failed(VerificationFailure failure, PrintWriter err) {
        err.println("siteward: " + failure.reason().code() + ": " + failure.message());
        for (FileDifference d : failure.differences()) {
            String line = d.kind().name().toLowerCase(Locale.ROOT) + " " + d.name();
            if (d.kind() == FileDifference.Kind.DIGEST_DIFFERS) {
                line += " (signed sha256:" + d.expectedSha256() + ", found sha256:" + d.actualSha256() + ")";
            }
            err.println(line);
        }
        err.flush();
        return CliException.CHECK_FAILED;
    }
}
