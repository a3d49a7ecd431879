package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code siteward demo} with the real jars: the gateway and five device-SDK sensors as child processes, judged by
 * what the demo prints and by no process being left behind.
 */
class DemoIT {

    @TempDir
    Path work;

    private Thread reader;

    /** Starts {@code siteward demo} with {@code --data-dir}; its output is collected line by line. */
    private Process demo(Path dataDir, String duration, List<String> lines, CompletableFuture<Void> scenario)
            throws IOException {
        List<String> cmd = new ArrayList<>(Processes.siteward("demo", "--duration", duration, "--data-dir",
                dataDir.toString(), "--device-jar", System.getProperty("siteward.device.jar")));
        cmd.removeIf(a -> a.equals("-XX:TieredStopAtLevel=1") || a.equals("-XX:+UseSerialGC"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().remove("SITEWARD_CA_PASSPHRASE");
        pb.environment().remove("SITEWARD_HOME");
        Process p = pb.start();
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                    if (line.contains("demo      scenario:")) {
                        scenario.complete(null);
                    }
                }
            } catch (IOException ignored) {
                // the demo ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        return p;
    }

    /** Processes still running whose command line names {@code dir} (the demo's gateway and sensors do). */
    private static List<String> leftOver(Path dir) {
        String needle = dir.toAbsolutePath().toString();
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .map(h -> h.info().commandLine().orElse(""))
                .filter(c -> c.contains(needle)).toList();
    }

    /** Waits for the end of the demo's output (after it exited), then prints it for the report. */
    private String ended(List<String> lines) throws InterruptedException {
        reader.join(30_000);
        String out = text(lines);
        System.out.println(out);
        return out;
    }

    private static String text(List<String> lines) {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    @Test
    void theDemoReleasesTheModelFlagsTheDriftingSensorDecidesTheActionCutsOffTheRevokedSensorAndStopsCleanly()
            throws Exception {
        Path dataDir = work.resolve("site");
        List<String> lines = new ArrayList<>();
        Process p = demo(dataDir, "30s", lines, new CompletableFuture<>());
        boolean ended = p.waitFor(10, TimeUnit.MINUTES);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = ended(lines);
        assertTrue(ended, "the demo ends on its own:\n" + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("model demo/vibration version 1 released to class vibration"), out);
        for (int i = 1; i <= 5; i++) {
            assertTrue(out.contains("sensor-" + i + "  enrolled with the device SDK"), out);
        }
        assertTrue(Pattern.compile("sensor-1  first result: demo/vibration version 1, anomaly 0\\.\\d{3}, normal")
                .matcher(out).find(), out);
        assertTrue(out.contains("drift flagged: sensor-3 on demo/vibration: feature 2 PSI"), out);
        assertFalse(Pattern.compile("drift flagged: sensor-[125] ").matcher(out).find(),
                "normal sensors are not flagged:\n" + out);
        assertTrue(out.contains("sensor-4  ALARM: anomaly"), out);
        assertTrue(out.contains("action line.stop requested for sensor-4's alarm: ALLOWED by policy"), out);
        assertTrue(out.contains("operator  revoked sensor-5"), out);
        assertTrue(Pattern.compile("sensor-5 (disconnected by the broker|reconnect refused): .*cut off")
                .matcher(out).find(), out);
        assertTrue(out.contains("sensor-5  cut off: 0 results later than 1 s after its revocation"), out);
        assertTrue(Pattern.compile("sensor-3 +active .*demo/vibration feature 2 PSI").matcher(out).find(),
                "device list shows the drift:\n" + out);
        assertTrue(out.contains("siteward_inference_drifting_devices{model=\"demo/vibration\"} 1"), out);
        assertTrue(out.contains("stopped cleanly"), out);
        assertEquals(List.of(), leftOver(dataDir), "no process of the demo is left behind");
        assertTrue(Files.isDirectory(dataDir.resolve("gateway")), "--data-dir is kept");
    }

    @Test
    void stoppingTheDemoMidRunLeavesNoProcessBehind() throws Exception {
        Path dataDir = work.resolve("interrupted");
        List<String> lines = new ArrayList<>();
        CompletableFuture<Void> scenario = new CompletableFuture<>();
        Process p = demo(dataDir, "120s", lines, scenario);
        scenario.get(8, TimeUnit.MINUTES);
        // SIGTERM runs the same shutdown path as Ctrl-C (SIGINT); through the handle, as Process.destroy() would also
        // close our end of the demo's output
        assertTrue(p.toHandle().destroy());
        assertTrue(p.waitFor(4, TimeUnit.MINUTES), text(lines));
        String out = ended(lines);
        assertTrue(out.contains("gateway   stopped"), out);
        assertEquals(List.of(), leftOver(dataDir), "no process of the demo is left behind:\n" + out);
    }
}
