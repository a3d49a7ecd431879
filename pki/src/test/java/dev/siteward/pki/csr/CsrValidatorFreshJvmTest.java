package dev.siteward.pki.csr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.siteward.pki.testkit.ChildJvm;
import dev.siteward.pki.testkit.TestCsr;
import dev.siteward.pki.testkit.TestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The first CSR a process sees (e.g. {@code siteward ca issue}) is validated like any other. */
class CsrValidatorFreshJvmTest {

    @Test
    void validCsrIsAcceptedInAJvmWhereNothingCryptographicHasRunYet(@TempDir Path dir) throws Exception {
        Path csr = Files.write(dir.resolve("device.csr"), TestCsr.forKey(TestKeys.p256()).der());
        ChildJvm.Result r = ChildJvm.run(FreshJvmCsrMain.class, Map.of(), Duration.ofSeconds(60), csr.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("EC", r.value("KEY"));
    }
}
