package dev.siteward.tests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code siteward serve} process on a data dir, on free ports, stopped with SIGTERM. Its stderr (logs) goes
 * to {@code <data-dir>/../gateway-<n>.log} for post-mortems.
 */
final class GatewayProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("siteward: listening enroll=(\\d+) device=(\\d+)");
    private static int counter;

    private final Process process;
    private final Path dataDir;
    private final Map<String, String> env;
    private final int enrollPort;
    private final int devicePort;
    private final Path log;

    private GatewayProcess(Process process, Path dataDir, Map<String, String> env, int enrollPort, int devicePort,
                           Path log) {
        this.process = process;
        this.dataDir = dataDir;
        this.env = env;
        this.enrollPort = enrollPort;
        this.devicePort = devicePort;
        this.log = log;
    }

    /** Starts the gateway and waits (up to 90 s) for its listening line. */
    static GatewayProcess start(Path dataDir, Map<String, String> env, List<String> jvmArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(System.getProperty("siteward.gateway.jar"));
        cmd.addAll(List.of("serve", "--data-dir", dataDir.toString(), "--enroll-port", "0", "--device-port", "0"));
        Path log = dataDir.toAbsolutePath().getParent().resolve("gateway-" + (++counter) + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
        pb.environment().remove("SITEWARD_CA_PASSPHRASE");
        pb.environment().remove("SITEWARD_HOME");
        pb.environment().putAll(env);
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Matcher> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.matches()) {
                        return m;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        Matcher m;
        try {
            m = ready.get(90, TimeUnit.SECONDS);
        } catch (Exception e) {
            m = null;
        }
        if (m == null) {
            p.destroyForcibly();
            throw new AssertionError("gateway did not start; log:\n" + Files.readString(log));
        }
        return new GatewayProcess(p, dataDir, env, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), log);
    }

    static GatewayProcess start(Path dataDir, Map<String, String> env) throws IOException {
        return start(dataDir, env, List.of());
    }

    int enrollPort() {
        return enrollPort;
    }

    int devicePort() {
        return devicePort;
    }

    String enrollUrl() {
        return "https://localhost:" + enrollPort;
    }

    String deviceUrl() {
        return "https://localhost:" + devicePort;
    }

    Path dataDir() {
        return dataDir;
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** Runs a {@code siteward} CLI command against this gateway's data dir. */
    Processes.Result cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data-dir");
        all.add(dataDir.toString());
        return Processes.run(dataDir.toAbsolutePath().getParent(), env, Processes.siteward(all.toArray(new String[0])));
    }

    /** Stops the gateway with SIGTERM and waits for it to exit; returns its exit code. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gateway did not stop within 30 s of SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
    }
}
