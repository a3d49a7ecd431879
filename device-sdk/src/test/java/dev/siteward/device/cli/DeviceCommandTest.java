package dev.siteward.device.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's exit codes and error lines for what can be checked without a gateway. */
class DeviceCommandTest {

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = DeviceCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static void assertOneLineWithoutStackTrace(Run r) {
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("siteward-device: "), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void aMalformedFingerprintIsBadInput() {
        Run r = run("enroll", "--gateway", "https://gw:8443", "--token", "t", "--ca-fingerprint", "sha256:xyz",
                "--dir", tmp.toString());
        assertEquals(2, r.code());
        assertOneLineWithoutStackTrace(r);
        assertTrue(r.err().contains("sha256:<64 hex digits>"), r.err());
    }

    @Test
    void aPlainHttpGatewayUrlIsBadInput() {
        Run r = run("enroll", "--gateway", "http://gw:8443", "--token", "t", "--ca-fingerprint",
                "sha256:" + "0".repeat(64), "--dir", tmp.toString());
        assertEquals(2, r.code());
        assertOneLineWithoutStackTrace(r);
    }

    @Test
    void aMissingRequiredOptionIsAUsageError() {
        Run r = run("enroll", "--gateway", "https://gw:8443");
        assertEquals(2, r.code());
        assertOneLineWithoutStackTrace(r);
    }

    @Test
    void statusAndRenewOfAnEmptyDirectoryAreBadInput() {
        for (String cmd : new String[] {"status", "renew"}) {
            Run r = run(cmd, "--dir", tmp.resolve("none").toString());
            assertEquals(2, r.code(), cmd);
            assertOneLineWithoutStackTrace(r);
            assertTrue(r.err().contains("device.not_enrolled"), r.err());
        }
    }

    @Test
    void anUnreachableGatewayExitsWithThree() {
        Run r = run("enroll", "--gateway", "https://localhost:1", "--token", "t", "--ca-fingerprint",
                "sha256:" + "0".repeat(64), "--dir", tmp.resolve("d").toString());
        assertEquals(3, r.code(), r.err());
        assertOneLineWithoutStackTrace(r);
        assertTrue(r.err().contains("device.gateway_unreachable"), r.err());
    }

    @Test
    void aClockSkewAboveOneHourIsBadInputNamingTheOption() {
        Run r = run("status", "--clock-skew", "2h", "--dir", tmp.resolve("none").toString());
        assertEquals(2, r.code(), r.err());
        assertOneLineWithoutStackTrace(r);
        assertTrue(r.err().contains("--clock-skew"), r.err());
    }

    @Test
    void anUnreadableLocalClockTestHookIsBadInput() {
        Run r = run("renew", "--local-clock", "yesterday", "--dir", tmp.resolve("none").toString());
        assertEquals(2, r.code(), r.err());
        assertOneLineWithoutStackTrace(r);
        assertTrue(r.err().contains("--local-clock"), r.err());
    }

    @Test
    void timeOfAnEmptyDirectoryIsBadInput() {
        Run r = run("time", "--dir", tmp.resolve("none").toString());
        assertEquals(2, r.code(), r.err());
        assertOneLineWithoutStackTrace(r);
        assertTrue(r.err().contains("device.not_enrolled"), r.err());
    }

    @Test
    void enrollingWithoutARealTimeClockAsksTheGatewayForTheTimeFirst() {
        Run r = run("enroll", "--no-rtc", "--gateway", "https://localhost:1", "--token", "t", "--ca-fingerprint",
                "sha256:" + "0".repeat(64), "--dir", tmp.resolve("d").toString());
        assertEquals(3, r.code(), r.err());
        assertOneLineWithoutStackTrace(r);
        assertTrue(r.err().contains("/.well-known/est/cacerts") || r.err().contains("unreachable"), r.err());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("d")), "nothing written");
    }

    @Test
    void noCommandIsAUsageError() {
        assertEquals(2, run().code());
    }
}
