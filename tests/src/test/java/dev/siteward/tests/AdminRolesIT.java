package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named admins with real certificates against the running gateway: {@code siteward admin add} hands each person a
 * bundle, every admin API call is checked against their role (curl with their certificate), a revoked admin is
 * refused at once, a renewed one moves to the new certificate, and the bootstrap admin's CLI flows keep working.
 */
class AdminRolesIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "admin roles test passphrase");
    private static final List<String> NAMED = List.of("olga", "sam", "pia", "abe");

    @TempDir
    static Path work;
    static GatewayProcess gw;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("curl", "curl");
        gw = GatewayProcess.start(work.resolve("data"), ENV);
        add("olga", "operator");
        add("sam", "security");
        add("pia", "publisher-admin");
        add("abe", "auditor");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
    }

    private static void add(String name, String role) {
        Result r = gw.cli("admin", "add", name, "--role", role, "--ttl", "30d", "--out", work.resolve(name).toString());
        assertEquals(0, r.exitCode(), r.both());
    }

    /** One call as the named admin (or the bootstrap admin, "admin"): HTTP status and body. */
    private static Result call(String who, String method, String path, String json) {
        Path dir = who.equals("admin") ? gw.dataDir().resolve("admin") : work.resolve(who);
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-w", "\n%{http_code}", "-X", method, "--cacert",
                dir.resolve("root.pem").toString(), "--cert", dir.resolve("admin.pem").toString(), "--key",
                dir.resolve("admin-key.pem").toString()));
        if (json != null) {
            cmd.addAll(List.of("-H", "Content-Type: application/json", "--data", json));
        }
        cmd.add(gw.deviceUrl() + path);
        return Processes.run(work, Map.of(), cmd);
    }

    private static int status(Result r) {
        String out = r.stdout().strip();
        return Integer.parseInt(out.substring(out.lastIndexOf('\n') + 1));
    }

    private static boolean forbidden(Result r) {
        return status(r) == 403 && r.stdout().contains("\"code\":\"auth.forbidden\"");
    }

    @Test
    void eachAdminGetsTheirOwnBundleWithTheKeyReadableOnlyByThem() throws Exception {
        for (String name : NAMED) {
            Path key = work.resolve(name).resolve("admin-key.pem");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
            assertTrue(Files.readString(work.resolve(name).resolve("admin.pem")).contains("BEGIN CERTIFICATE"));
        }
        Result list = gw.cli("admin", "list");
        assertEquals(0, list.exitCode(), list.both());
        for (String expected : List.of("olga", "operator", "sam", "security", "pia", "publisher-admin", "abe",
                "auditor", "bootstrap")) {
            assertTrue(list.stdout().contains(expected), list.stdout());
        }
    }

    @Test
    void everyRoleIsAllowedExactlyItsOwnCallsAndRefusedTheRestNamingTheRoleNeeded() {
        // method, path, body, the admins allowed (the bootstrap admin is allowed everything known)
        record Case(String method, String path, String body, List<String> allowed) {
        }
        List<Case> cases = List.of(
                new Case("GET", "/v1/admin/devices", null, NAMED),
                new Case("GET", "/v1/admin/admins", null, NAMED),
                new Case("POST", "/v1/admin/tokens", "{\"deviceId\":\"pump-1\"}", List.of("olga")),
                new Case("POST", "/v1/admin/devices", "{\"id\":\"pump-2\"}", List.of("olga")),
                new Case("POST", "/v1/admin/devices/nope/revoke", "{}", List.of("sam")),
                new Case("GET", "/v1/admin/crl", null, List.of("sam", "abe")),
                new Case("POST", "/v1/admin/certificates/0a0b0c/revoke", "{}", List.of("sam")),
                new Case("POST", "/v1/admin/models", "{}", List.of("pia")),
                new Case("POST", "/v1/admin/models/detector/3/release", "{}", List.of("olga")),
                new Case("POST", "/v1/admin/policy", "{}", List.of("sam")),
                new Case("GET", "/v1/admin/audit", null, List.of("sam", "abe")),
                new Case("POST", "/v1/admin/admins", "{\"name\":\"zed\",\"role\":\"operator\",\"csr\":\"AA==\"}",
                        List.of()),
                new Case("GET", "/v1/admin/no-such-thing", null, List.of()));
        for (Case c : cases) {
            for (String who : NAMED) {
                Result r = call(who, c.method(), c.path(), c.body());
                if (c.allowed().contains(who)) {
                    assertTrue(!forbidden(r) && status(r) != 401, who + " may " + c.method() + " " + c.path() + ": "
                            + r.both());
                } else {
                    assertTrue(forbidden(r), who + " must be refused " + c.method() + " " + c.path() + ": " + r.both());
                    if (!c.path().contains("no-such-thing")) {
                        assertTrue(r.stdout().contains("requires role"), r.stdout());
                    }
                }
            }
        }
        Result boot = call("admin", "GET", "/v1/admin/audit", null);
        assertNotEquals(403, status(boot), boot.both());
        assertTrue(forbidden(call("admin", "GET", "/v1/admin/no-such-thing", null)));
    }

    @Test
    void theBootstrapAdminsCliFlowsKeepWorkingThroughTheRunningGateway() {
        Result token = gw.cli("token", "create", "--device-id", "valve-9");
        assertEquals(0, token.exitCode(), token.both());
        Result devices = gw.cli("device", "list");
        assertEquals(0, devices.exitCode(), devices.both());
        Result crl = gw.cli("ca", "crl");
        assertEquals(0, crl.exitCode(), crl.both());
    }

    @Test
    void aRevokedAdminIsRefusedAtOnceAndARenewedOneMovesToTheNewCertificate() throws Exception {
        add("ria", "operator");
        assertEquals(200, status(call("ria", "GET", "/v1/admin/devices", null)));
        Result revoke = gw.cli("admin", "revoke", "ria");
        assertEquals(0, revoke.exitCode(), revoke.both());
        Result after = call("ria", "GET", "/v1/admin/devices", null);
        assertTrue(after.exitCode() != 0 || status(after) == 403, "a revoked admin is refused: " + after.both());

        add("ned", "auditor");
        Path old = work.resolve("ned-old");
        Files.createDirectories(old);
        for (String f : List.of("admin.pem", "admin-key.pem", "root.pem")) {
            Files.copy(work.resolve("ned").resolve(f), old.resolve(f));
        }
        Result renew = gw.cli("admin", "renew", "ned", "--out", work.resolve("ned-new").toString());
        assertEquals(0, renew.exitCode(), renew.both());
        assertEquals(200, status(call("ned-new", "GET", "/v1/admin/devices", null)));
        Result stale = call("ned-old", "GET", "/v1/admin/devices", null);
        assertTrue(stale.exitCode() != 0 || status(stale) == 403, "the superseded certificate is refused: "
                + stale.both());
        assertTrue(forbidden(call("ned-new", "POST", "/v1/admin/tokens", "{\"deviceId\":\"x\"}")),
                "the renewed certificate keeps the auditor role");
    }

    @Test
    void badAdminCommandsExitTwoWithOneLineAndChangeNothing() {
        Result role = gw.cli("admin", "add", "zoe", "--role", "root");
        assertEquals(2, role.exitCode(), role.both());
        assertTrue(role.stderr().strip().lines().count() == 1 && role.stderr().contains("invalid role"),
                role.stderr());
        Result boot = gw.cli("admin", "add", "zoe", "--role", "bootstrap");
        assertEquals(2, boot.exitCode(), boot.both());
        Result twice = gw.cli("admin", "add", "sam", "--role", "operator");
        assertEquals(2, twice.exitCode(), twice.both());
        assertTrue(twice.stderr().contains("exists"), twice.stderr());
        Result unknown = gw.cli("admin", "revoke", "nobody");
        assertEquals(2, unknown.exitCode(), unknown.both());
        Result list = gw.cli("admin", "list");
        assertTrue(!list.stdout().contains("zoe") && !list.stdout().contains("nobody"), list.stdout());
        assertTrue(list.stdout().lines().anyMatch(l -> l.startsWith("sam") && l.contains("security")), list.stdout());
    }

    @Test
    void statusReportsTheSitesCertificatesThroughTheRunningGatewayAndExitsOneWhenSomethingExpiresSoon() {
        Result ok = gw.cli("status");
        assertEquals(0, ok.exitCode(), ok.both());
        for (String kind : List.of("root", "issuing", "server", "admin")) {
            assertTrue(ok.stdout().lines().anyMatch(l -> l.startsWith(kind + " ")), kind + ": " + ok.stdout());
        }
        assertTrue(ok.stdout().contains("all certificates ok"), ok.stdout());
        Result json = gw.cli("status", "--json");
        assertEquals(0, json.exitCode(), json.both());
        assertTrue(json.stdout().contains("\"attention\" : 0"), json.stdout());
        // the named admins' certificates last 30 days: a 60-day window reports them
        Result soon = gw.cli("status", "--window", "60d");
        assertEquals(1, soon.exitCode(), soon.both());
        assertTrue(soon.stdout().contains("expiring"), soon.stdout());
        Result bad = gw.cli("status", "--window", "soon");
        assertEquals(2, bad.exitCode(), bad.both());
    }

    @Test
    void namedAdminsRunTheCliWithTheirOwnBundleAndTheirRoleIsEnforced() {
        String abe = work.resolve("abe").toString();
        Result status = gw.cli("status", "--admin-dir", abe);
        assertTrue(status.exitCode() == 0 || status.exitCode() == 1, "an auditor may run status: " + status.both());
        assertTrue(status.stdout().contains("server"), status.stdout());

        Result token = gw.cli("token", "create", "--device-id", "abe-pump", "--admin-dir", abe);
        assertEquals(3, token.exitCode(), token.both());
        assertTrue(token.stderr().contains("requires role operator") && token.stderr().lines().count() == 1,
                "one line naming the role needed: " + token.stderr());

        Result viaEnv = Processes.run(work, Map.of("SITEWARD_ADMIN_DIR", abe), Processes.siteward("token", "create",
                "--device-id", "abe-pump", "--data-dir", gw.dataDir().toString()));
        assertEquals(3, viaEnv.exitCode(), "SITEWARD_ADMIN_DIR names the bundle too: " + viaEnv.both());

        Result operator = gw.cli("token", "create", "--device-id", "olga-pump", "--admin-dir",
                work.resolve("olga").toString());
        assertEquals(0, operator.exitCode(), operator.both());

        Result list = gw.cli("admin", "list", "--json", "--admin-dir", abe);
        assertEquals(0, list.exitCode(), list.both());

        Result missing = gw.cli("status", "--admin-dir", work.resolve("nobody").toString());
        assertEquals(2, missing.exitCode(), missing.both());
        assertTrue(missing.stderr().contains("admin.pem") && missing.stderr().lines().count() == 1, missing.stderr());
    }

    @Test
    void aNamedAdminOnTheirOwnMachineReachesTheGatewayWithTheBundleAloneAndWithoutADataDir() throws Exception {
        // the bundle 'admin add --out' wrote names the gateway (advertised host, device port)
        String url = Files.readString(work.resolve("abe").resolve("gateway.url")).strip();
        int devicePort = java.net.URI.create(gw.deviceUrl()).getPort();
        assertTrue(url.startsWith("https://") && url.endsWith(":" + devicePort), url);

        // copied to another machine: a directory far from the data dir, which is not readable from there
        Path laptop = Files.createDirectories(work.resolve("laptop"));
        Path bundle = Files.createDirectories(laptop.resolve("abe-bundle"));
        for (String f : List.of("admin.pem", "admin-key.pem", "root.pem", "gateway.url")) {
            Files.copy(work.resolve("abe").resolve(f), bundle.resolve(f));
        }
        Result status = Processes.run(laptop, Map.of(), Processes.siteward("status", "--admin-dir", bundle.toString()));
        assertTrue(status.exitCode() == 0 || status.exitCode() == 1, "an auditor may run status: " + status.both());
        assertTrue(status.stdout().lines().anyMatch(l -> l.startsWith("server ")), status.stdout());
        Result refused = Processes.run(laptop, Map.of(), Processes.siteward("token", "create", "--device-id",
                "laptop-pump", "--admin-dir", bundle.toString()));
        assertEquals(3, refused.exitCode(), refused.both());
        assertTrue(refused.stderr().contains("requires role operator") && refused.stderr().lines().count() == 1,
                refused.stderr());
        assertTrue(!Files.exists(laptop.resolve("siteward-data")), "no data dir is created on the admin's machine");

        // an explicit URL (option or environment) works without gateway.url in the bundle
        Files.delete(bundle.resolve("gateway.url"));
        Result byOption = Processes.run(laptop, Map.of(), Processes.siteward("admin", "list", "--admin-dir",
                bundle.toString(), "--gateway-url", "https://localhost:" + devicePort));
        assertEquals(0, byOption.exitCode(), byOption.both());
        assertTrue(byOption.stdout().contains("abe"), byOption.stdout());
        Result byEnv = Processes.run(laptop, Map.of("SITEWARD_GATEWAY_URL", "https://127.0.0.1:" + devicePort,
                "SITEWARD_ADMIN_DIR", bundle.toString()), Processes.siteward("device", "list"));
        assertEquals(0, byEnv.exitCode(), byEnv.both());
        Result operator = Processes.run(laptop, Map.of(), Processes.siteward("token", "create", "--device-id",
                "olga-laptop-pump", "--admin-dir", work.resolve("olga").toString(), "--gateway-url",
                "https://localhost:" + devicePort));
        assertEquals(0, operator.exitCode(), operator.both());

        // a bad URL is exit 2, a gateway that does not answer exit 3: one line each, nothing created
        Result bad = Processes.run(laptop, Map.of(), Processes.siteward("status", "--admin-dir", bundle.toString(),
                "--gateway-url", "http://localhost:" + devicePort));
        assertEquals(2, bad.exitCode(), bad.both());
        assertTrue(bad.stderr().contains("--gateway-url") && bad.stderr().strip().lines().count() == 1,
                bad.stderr());
        Result down = Processes.run(laptop, Map.of(), Processes.siteward("status", "--admin-dir", bundle.toString(),
                "--gateway-url", "https://127.0.0.1:1"));
        assertEquals(3, down.exitCode(), down.both());
        assertTrue(down.stderr().contains("does not answer") && down.stderr().strip().lines().count() == 1,
                down.stderr());
        Result noBundle = Processes.run(laptop, Map.of(), Processes.siteward("status", "--gateway-url",
                "https://localhost:" + devicePort));
        assertEquals(2, noBundle.exitCode(), noBundle.both());
        assertTrue(!Files.exists(laptop.resolve("siteward-data")), "no data dir is created on the admin's machine");
    }
}
