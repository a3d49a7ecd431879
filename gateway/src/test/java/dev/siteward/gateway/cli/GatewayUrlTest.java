package dev.siteward.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --gateway-url} and a bundle's {@code gateway.url}: which gateway a command reaches, and bad URLs. */
class GatewayUrlTest {

    @TempDir
    Path dir;

    @BeforeEach
    void noUrlInTheEnvironment() {
        Assumptions.assumeTrue(System.getenv(DataDir.GATEWAY_URL_ENV) == null
                && System.getenv(DataDir.ADMIN_DIR_ENV) == null, "runs without SITEWARD_GATEWAY_URL/ADMIN_DIR set");
    }

    @Test
    void aGatewayUrlIsHttpsWithAHostAndNothingElseAndThePortDefaultsToTheDeviceListener() {
        assertEquals(URI.create("https://gw.site.local:9443"), DataDir.parseGatewayUrl("https://gw.site.local", "x"));
        assertEquals(URI.create("https://gw.site.local:8443"), DataDir.parseGatewayUrl("https://gw.site.local:8443/",
                "x"));
        assertEquals(URI.create("https://[::1]:9443"), DataDir.parseGatewayUrl("https://[::1]:9443", "x"));
        for (String bad : new String[] {"http://gw:9443", "gw:9443", "https://", "https://u@gw:9443",
                "https://gw:9443/v1/admin", "https://gw:9443?x=1", "https://gw:9443#f", "not a url"}) {
            CliException e = assertThrows(CliException.class, () -> DataDir.parseGatewayUrl(bad, "--gateway-url"),
                    bad);
            assertEquals(CliException.BAD_INPUT, e.exitCode(), bad);
            assertTrue(e.getMessage().startsWith("--gateway-url: "), e.getMessage());
        }
    }

    @Test
    void theBundlesGatewayUrlIsUsedOnlyWhereThereIsNoSiteDataDir() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.writeString(bundle.resolve(DataDir.GATEWAY_URL_FILE), "https://gw.site.local:9443\n");
        DataDir d = new DataDir();
        d.dataDir = dir.resolve("nowhere");
        assertNull(d.remoteGateway(), "without a named bundle, the data dir decides");
        d.adminDir = bundle;
        assertEquals(URI.create("https://gw.site.local:9443"), d.remoteGateway());
        assertFalse(Files.exists(d.dataDir), "asking creates no data dir");

        Files.createDirectories(d.dataDir.resolve("ca"));
        assertNull(d.remoteGateway(), "on the appliance, the data dir (and its running gateway) decides");
        d.gatewayUrl = "https://other.site.local:9444";
        assertEquals(URI.create("https://other.site.local:9444"), d.remoteGateway(), "an explicit URL wins");
    }

    @Test
    void aCommandWithABadUrlOrNoBundleExitsTwoWithOneLineAndCreatesNoDataDir() {
        StringWriter err = new StringWriter();
        int code = SitewardCommand.execute(new String[] {"status", "--gateway-url", "ftp://gw", "--data-dir",
                dir.resolve("d").toString()}, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertEquals(2, code, err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        err = new StringWriter();
        code = SitewardCommand.execute(new String[] {"device", "list", "--gateway-url", "https://127.0.0.1:1",
                "--data-dir", dir.resolve("d").toString()}, new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true));
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--admin-dir"), err.toString());
        assertFalse(Files.exists(dir.resolve("d")));
    }

    @Test
    void serveRefusesAGatewayUrlBeforeTouchingTheDataDir() {
        StringWriter err = new StringWriter();
        int code = SitewardCommand.execute(new String[] {"serve", "--gateway-url", "https://gw:9443", "--data-dir",
                dir.resolve("d").toString()}, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--gateway-url"), err.toString());
        assertFalse(Files.exists(dir.resolve("d")));
    }
}
