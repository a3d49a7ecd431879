package dev.siteward.pki.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test classpath in a child JVM (same {@code java.home}, same class path), with extra
 * environment variables: for code that reads the process environment (e.g. SunPKCS11 with {@code SOFTHSM2_CONF})
 * or that must start in a fresh JVM with nothing loaded yet.
 */
public final class ChildJvm {

    /** What the child did: exit code, stdout and stderr as text. */
    public record Result(int exitCode, String stdout, String stderr) {

        /** The value of the first stdout line {@code KEY value}, or null. */
        public String value(String key) {
            for (String line : stdout.split("\n")) {
                if (line.startsWith(key + " ")) {
                    return line.substring(key.length() + 1).strip();
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private ChildJvm() {
    }

    /**
     * Runs {@code mainClass} with {@code args} and the extra {@code env}, waiting at most {@code timeout} (the child
     * is killed after that and an {@link IllegalStateException} thrown).
     */
    public static Result run(Class<?> mainClass, Map<String, String> env, Duration timeout, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return exec(command, env, timeout);
    }

    /** Runs any command (e.g. {@code openssl}) with the extra {@code env}; stdout and stderr are captured. */
    public static Result exec(List<String> command, Map<String, String> env, Duration timeout) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("child-", ".out");
            err = Files.createTempFile("child-", ".err");
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out after " + timeout + ": " + command);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }
}
