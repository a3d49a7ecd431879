package dev.siteward.gateway.demo;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** One demo sensor: its device dir, its {@code siteward-device sense} process and what came back to it. */
final class DemoSensor {

    final String id;
    final DemoReadings.Kind kind;
    final Path dir;
    final DemoReadings readings;
    final AtomicLong results = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong resultsAfterRevocation = new AtomicLong();
    volatile long revokedAtNanos;
    volatile String decision = "normal";
    volatile String lastError;
    volatile Process process;
    long sent;
    private boolean closed;

    DemoSensor(String id, DemoReadings.Kind kind, Path dir, long seed) {
        this.id = id;
        this.kind = kind;
        this.dir = dir;
        this.readings = new DemoReadings(kind, seed);
    }

    String describe() {
        return switch (kind) {
            case NORMAL -> "normal readings";
            case DRIFTING -> "readings that drift: feature " + DemoReadings.DRIFT_FEATURE + " moves "
                    + DemoReadings.DRIFT_SIGMAS + " standard deviations";
            case ANOMALY -> "normal readings with anomaly bursts";
        };
    }

    /** Writes the next reading to the sense process's stdin; a sensor whose process ended sends nothing. */
    synchronized void send(double seconds, boolean burst) {
        Process p = process;
        if (closed || p == null || !p.isAlive()) {
            return;
        }
        try {
            OutputStream in = p.getOutputStream();
            in.write((DemoReadings.line(readings.next(seconds, burst)) + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
            sent++;
        } catch (IOException e) {
            closed = true;
        }
    }

    /** Ends the sensor's input: {@code sense} waits briefly for the last answers, then exits. */
    synchronized void close() {
        closed = true;
        Process p = process;
        if (p != null) {
            try {
                p.getOutputStream().close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }
}
