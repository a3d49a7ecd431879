package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trusted time on the packaged gateway: the latest time it saw is recorded in the data dir; a clock earlier than
 * that (here: a record one day ahead of the real clock, as after the clock was set back) refuses start-up and
 * local issuance until an operator runs {@code siteward time accept}; the gateway shows its time and the recorded
 * time in {@code /.well-known/siteward}.
 */
class TrustedTimeIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "trusted time test passphrase");

    @TempDir
    static Path work;

    private static Result siteward(Path data, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.add("--data-dir");
        all.add(data.toString());
        return Processes.run(work, ENV, Processes.siteward(all.toArray(new String[0])));
    }

    @Test
    void aClockBehindTheRecordedTimeRefusesStartAndIssuanceUntilAnOperatorAcceptsIt() throws Exception {
        Tools.require("curl", "curl");
        Path data = work.resolve("data");
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            Result info = Processes.run(work, Map.of(), List.of("curl", "-sS", "--cacert",
                    data.resolve("admin/root.pem").toString(), gw.enrollUrl() + "/.well-known/siteward"));
            assertTrue(info.stdout().contains("\"lastRecordedTime\"") && info.stdout().contains("\"time\"")
                    && info.stdout().contains("\"clockTrusted\":true"), info.both());
            Result show = gw.cli("time", "show");
            assertEquals(0, show.exitCode(), show.both());
        }
        String recorded = Files.readString(data.resolve("gateway/time.json"));
        assertTrue(recorded.contains("\"latest\""), recorded);

        // the record says the gateway already saw tomorrow: this clock went back a day
        Instant tomorrow = Instant.now().plus(Duration.ofDays(1));
        Files.writeString(data.resolve("gateway/time.json"), "{\"latest\":\"" + tomorrow + "\",\"acceptedAt\":null,"
                + "\"acceptedFrom\":null,\"acceptedBy\":null}\n");
        Result serve = siteward(data, "serve", "--enroll-port", "0", "--device-port", "0");
        assertEquals(1, serve.exitCode(), serve.both());
        assertTrue(serve.stderr().contains("refusing to start") && serve.stderr().contains("siteward time accept"),
                serve.stderr());
        assertTrue(serve.stderr().lines().noneMatch(l -> l.contains("\tat ")), "no stack trace: " + serve.stderr());

        Result token = siteward(data, "token", "create", "--device-id", "pump-1");
        assertEquals(1, token.exitCode(), token.both());
        assertTrue(token.stderr().contains("earlier than the latest time"), token.stderr());
        Tools.require("openssl", "openssl");
        Path csr = work.resolve("svc.csr");
        Result req = Processes.run(work, Map.of(), List.of("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", work.resolve("svc.key").toString(), "-subj",
                "/CN=svc-1", "-out", csr.toString()));
        assertEquals(0, req.exitCode(), req.both());
        Result issue = siteward(data, "ca", "issue", "--csr", csr.toString(), "--profile", "service", "--name",
                "svc-1");
        assertEquals(1, issue.exitCode(), "no issuance on a clock set back: " + issue.both());
        Result show = siteward(data, "time", "show");
        assertEquals(1, show.exitCode(), show.both());

        Result accept = siteward(data, "time", "accept");
        assertEquals(0, accept.exitCode(), accept.both());
        assertTrue(accept.stdout().contains("clock trusted   yes"), accept.stdout());
        assertTrue(Files.readString(data.resolve("gateway/time.json")).contains("\"acceptedFrom\" : \"" + tomorrow),
                Files.readString(data.resolve("gateway/time.json")));
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            assertEquals(0, gw.cli("token", "create", "--device-id", "pump-1").exitCode());
        }
    }
}
