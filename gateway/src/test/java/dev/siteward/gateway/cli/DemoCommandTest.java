package dev.siteward.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siteward demo}'s refusals: one line, exit 2, nothing started or written. */
class DemoCommandTest {

    @TempDir
    Path dir;

    private int run(StringWriter err, String... args) {
        return SitewardCommand.execute(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    }

    @Test
    void aDurationTooShortForDriftIsRefused() {
        StringWriter err = new StringWriter();
        assertEquals(CliException.BAD_INPUT, run(err, "demo", "--duration", "5s"));
        assertTrue(err.toString().contains("--duration must be at least 20s"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }

    @Test
    void aDataDirThatIsNotEmptyIsRefusedAndLeftAlone() throws Exception {
        Files.writeString(dir.resolve("keep.txt"), "mine");
        StringWriter err = new StringWriter();
        assertEquals(CliException.BAD_INPUT, run(err, "demo", "--data-dir", dir.toString()));
        assertTrue(err.toString().contains("must be a new or empty folder"), err.toString());
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void theDeviceJarIsFoundInTheRepositoryLayoutBesideTheGatewayJar() throws Exception {
        Path gateway = Files.createDirectories(dir.resolve("gateway/target")).resolve("siteward-gateway.jar");
        Files.writeString(gateway, "");
        assertEquals(null, DemoCommand.findDeviceJar(gateway));
        Path device = Files.createDirectories(dir.resolve("device-sdk/target")).resolve("siteward-device.jar");
        Files.writeString(device, "");
        assertEquals(device, DemoCommand.findDeviceJar(gateway));
    }
}
