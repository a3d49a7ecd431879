package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device without a real-time clock against the packaged gateway: the {@code siteward-device} jar runs with its
 * local clock set years in the past through the test hook {@code --local-clock} (the JVM's clock cannot be moved),
 * enrolls, renews and shows its time using the gateway's time from {@code /.well-known/siteward}; the same hook set
 * years ahead (a clock that looks trusted but is wrong the other way) finds the certificates expired, so the
 * hook really is the clock the SDK checks with.
 */
class DeviceWithoutRtcIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String YEARS_AGO = "2019-03-01T08:00:00Z";

    @TempDir
    static Path work;

    @Test
    void aDeviceWhoseClockSays2019EnrollsRenewsAndShowsItsTimeFromTheGateway() throws Exception {
        try (GatewayProcess gateway = GatewayProcess.start(work.resolve("gateway-data"))) {
            Path dir = work.resolve("rtc-less");
            String token = gateway.tokenFromCli("meter-1", "class=meter");

            Result enrolled = device("enroll", "--gateway", gateway.enrollUrl().toString(), "--token", token,
                    "--ca-fingerprint", gateway.rootFingerprint(), "--dir", dir.toString(),
                    "--local-clock", YEARS_AGO);
            assertEquals(0, enrolled.exitCode(), enrolled.both());
            JsonNode recorded = JSON.readTree(Files.readString(dir.resolve("time.json")));
            Instant latest = Instant.parse(recorded.path("latest").asText());
            assertTrue(Duration.between(latest, Instant.now()).abs().compareTo(Duration.ofMinutes(1)) < 0,
                    "the recorded time is the gateway's, not 2019: " + recorded);

            Result time = device("time", "--json", "--dir", dir.toString(), "--local-clock", YEARS_AGO);
            assertEquals(0, time.exitCode(), time.both());
            JsonNode t = JSON.readTree(time.stdout());
            assertTrue(t.path("localTime").asText().startsWith("2019-03-01"), t.toString());
            assertFalse(t.path("localClockTrusted").asBoolean(), t.toString());
            assertTrue(t.path("gatewayClockTrusted").asBoolean(), t.toString());
            assertEquals("gateway", t.path("source").asText(), t.toString());
            assertTrue(Duration.ofMillis(t.path("offsetMillis").asLong()).toDays() > 365 * 7, t.toString());
            Instant deviceTime = Instant.parse(t.path("deviceTime").asText());
            assertTrue(Duration.between(deviceTime, Instant.now()).abs().compareTo(Duration.ofMinutes(1)) < 0,
                    t.toString());

            Result text = device("time", "--dir", dir.toString(), "--local-clock", YEARS_AGO);
            assertEquals(0, text.exitCode(), text.both());
            assertTrue(text.stdout().contains("local time:    2019-03-01") && text.stdout().contains("offset:")
                    && text.stdout().contains("source gateway"), text.both());

            Result renewed = device("renew", "--dir", dir.toString(), "--local-clock", YEARS_AGO, "--no-rtc");
            assertEquals(0, renewed.exitCode(), renewed.both());
            assertTrue(renewed.stdout().contains("renewed device 'meter-1'"), renewed.both());

            Result status = device("status", "--json", "--dir", dir.toString(), "--local-clock", YEARS_AGO);
            assertEquals(0, status.exitCode(), status.both());
            assertEquals("meter-1", JSON.readTree(status.stdout()).path("deviceId").asText(), status.both());

            // control: the hook ahead by years is a clock that looks fine, and the certificates expired by then
            Result ahead = device("renew", "--dir", dir.toString(), "--local-clock", "2040-01-01T00:00:00Z");
            assertEquals(3, ahead.exitCode(), ahead.both());
            assertTrue(ahead.stderr().contains("expired"), ahead.both());
            assertTrue(ahead.stderr().lines().noneMatch(l -> l.contains("\tat ")), "no stack trace: " + ahead.both());
        }
    }

    private static Result device(String... args) {
        String jar = System.getProperty("siteward.device.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new AssertionError("device jar not found at " + jar + " (run through mvn verify)");
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar));
        cmd.addAll(List.of(args));
        return Processes.run(work, Map.of(), cmd);
    }
}
