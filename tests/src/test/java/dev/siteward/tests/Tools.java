package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real tools the end-to-end tests need. Where one is missing the test is skipped with a message, except under
 * CI ({@code CI=true}), where the test command installs them and absence is a failure.
 */
final class Tools {

    private Tools() {
    }

    static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    static void require(String program, String debianPackage) {
        if (!Processes.onPath(program)) {
            String msg = program + " not found (Debian package " + debianPackage
                    + "; scripts/test-all.sh installs it)";
            if (ci()) {
                fail(msg);
            }
            assumeTrue(false, msg);
        }
    }
}
