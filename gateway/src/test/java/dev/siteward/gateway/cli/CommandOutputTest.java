package dev.siteward.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commands print through picocli's out writer, so a caller running them in-process gets all of their output. */
class CommandOutputTest {

    @TempDir
    Path dir;

    @Test
    void utf8SplitAcrossWritesIsDecodedWholeAndTheTailComesOnClose() throws Exception {
        StringWriter sink = new StringWriter();
        byte[] text = "{\"device\":\"capteur-é\"}\n{\"x\":\"µ".getBytes(StandardCharsets.UTF_8);
        CommandOutput out = new CommandOutput(new PrintWriter(sink, true));
        for (byte b : text) {
            out.write(new byte[] {b}, 0, 1); // one byte at a time: é and µ split across writes
        }
        assertEquals("{\"device\":\"capteur-é\"}\n", sink.toString(), "whole lines only before close");
        out.close();
        assertEquals(new String(text, StandardCharsets.UTF_8), sink.toString());
    }

    @Test
    void publisherAddListAndRemovePrintToTheCommandsOwnOutput() throws Exception {
        Path key = dir.resolve("pub.key");
        Path cert = dir.resolve("pub.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-subj",
                "/CN=Vision publisher", "-days", "30").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl made the publisher root");
        Path data = Files.createDirectories(dir.resolve("data"));

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, SitewardCommand.execute(new String[] {"publisher", "list", "--data-dir", data.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(out.toString().startsWith("no trusted publishers"), out.toString());

        out = new StringWriter();
        assertEquals(0, SitewardCommand.execute(new String[] {"publisher", "add", "vision", "--roots",
                cert.toString(), "--models", "vision/*", "--data-dir", data.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(out.toString().startsWith("trusted vision: models vision/*, policies no, 1 root(s)"),
                out.toString());

        out = new StringWriter();
        assertEquals(0, SitewardCommand.execute(new String[] {"publisher", "list", "--data-dir", data.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(out.toString().startsWith("vision  models=vision/*  policies=no  roots="), out.toString());

        out = new StringWriter();
        assertEquals(0, SitewardCommand.execute(new String[] {"publisher", "remove", "vision", "--data-dir",
                data.toString()}, new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertEquals("removed vision", out.toString().strip());
    }
}
