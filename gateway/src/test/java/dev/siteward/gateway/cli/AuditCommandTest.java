package dev.siteward.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siteward audit}: argument handling (the commands themselves run end to end in AuditIT). */
class AuditCommandTest {

    @TempDir
    Path dir;

    @Test
    void sinceAcceptsAnInstantADateOrAnAge() {
        Instant now = Instant.parse("2026-03-01T12:00:00Z");
        assertEquals(Instant.parse("2026-02-01T08:30:00Z"), AuditCommand.parseSince("2026-02-01T08:30:00Z", now));
        assertEquals(Instant.parse("2026-02-01T00:00:00Z"), AuditCommand.parseSince("2026-02-01", now));
        assertEquals(Instant.parse("2026-02-22T12:00:00Z"), AuditCommand.parseSince("7d", now));
        CliException e = assertThrows(CliException.class, () -> AuditCommand.parseSince("last week", now));
        assertEquals(CliException.BAD_INPUT, e.exitCode());
    }

    private int run(StringWriter err, String... args) {
        return SitewardCommand.execute(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    }

    @Test
    void verifyingAnExportNeedsTheRootAndAnExistingFile() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "audit", "verify", "--file", dir.resolve("x.ndjson").toString()));
        assertTrue(err.toString().contains("--root"), err.toString());
        Path root = dir.resolve("root.pem");
        Files.writeString(root, "not a certificate");
        err = new StringWriter();
        assertEquals(2, run(err, "audit", "verify", "--file", dir.resolve("x.ndjson").toString(), "--root",
                root.toString()));
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }

    @Test
    void aMalformedExportFailsTheCheckWithOneLine() throws Exception {
        dev.siteward.pki.testkit.MutableClock clock = dev.siteward.pki.testkit.MutableClock.atSystemTime();
        try (dev.siteward.pki.testkit.TestPki pki = dev.siteward.pki.testkit.TestPki.create(dir.resolve("d"), clock)) {
            Path root = dir.resolve("root.pem");
            Files.writeString(root, dev.siteward.pki.PemCodec.certificates(java.util.List.of(pki.root())));
            Path export = dir.resolve("e.ndjson");
            Files.writeString(export, "{\"kind\":\"record\",\"seq\":1}\n");
            StringWriter err = new StringWriter();
            assertEquals(1, run(err, "audit", "verify", "--file", export.toString(), "--root", root.toString()));
            assertTrue(err.toString().startsWith("siteward: audit log NOT intact: line 1"), err.toString());
        }
    }
}
