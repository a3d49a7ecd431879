package dev.siteward.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siteward data export} and {@code siteward retention report}: bad input is exit 2 with one line. */
class RetentionCommandTest {

    @TempDir
    Path dir;

    private int run(StringWriter err, String... args) {
        return SitewardCommand.execute(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    }

    @Test
    void exportNeedsAClassAndASince() {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "data", "export", "--since", "1h", "--data-dir", dir.toString()));
        assertTrue(err.toString().contains("--class"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(err, "data", "export", "--class", "sensor-readings", "--data-dir", dir.toString()));
        assertTrue(err.toString().contains("--since"), err.toString());
    }

    @Test
    void aBadSinceIsOneLineOfBadInput() {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "data", "export", "--class", "sensor-readings", "--since", "last week",
                "--data-dir", dir.toString()));
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("invalid --since"), err.toString());
    }

    @Test
    void aDataDirWithoutASiteIsBadInputForTheReport() {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "retention", "report", "--data-dir", dir.toString()));
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }
}
