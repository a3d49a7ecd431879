package dev.siteward.device.grants;

import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ids of grants already used, each kept until its grant expires, in a file (one {@code <jti> <exp epoch
 * seconds>} per line) rewritten atomically (write, fsync, rename) on every use, so a reboot does not reopen a replay
 * window. Bounded: at most {@code capacity} unexpired ids; when full, new grants are refused rather than old ids
 * forgotten (grants live at most a minute, so the store drains by itself).
 */
public final class UsedGrants {

    /** The default capacity. */
    public static final int DEFAULT_CAPACITY = 10_000;

    private final Path file;
    private final Clock clock;
    private final int capacity;
    private final Map<String, Long> used = new LinkedHashMap<>();

    private UsedGrants(Path file, Clock clock, int capacity) {
        this.file = file;
        this.clock = clock;
        this.capacity = capacity;
    }

    /** Opens (or starts) the store at {@code file}; a corrupt line makes opening fail rather than forget ids. */
    public static UsedGrants open(Path file, Clock clock, int capacity) throws IOException {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        UsedGrants g = new UsedGrants(file, clock, capacity);
        if (Files.exists(file)) {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.strip().split(" ");
                try {
                    if (parts.length != 2) {
                        throw new NumberFormatException();
                    }
                    g.used.put(parts[0], Long.parseLong(parts[1]));
                } catch (NumberFormatException e) {
                    throw new IOException(file + ":" + n + ": not '<grant id> <expiry seconds>'");
                }
            }
        }
        return g;
    }

    /**
     * Records {@code id} as used until {@code keepUntil}; returns false when it was used before.
     *
     * @throws IOException the store cannot be written, or it is full: the caller must refuse the grant
     */
    public synchronized boolean markUsed(String id, Instant keepUntil) throws IOException {
        long now = clock.instant().getEpochSecond();
        used.values().removeIf(exp -> exp < now);
        if (used.containsKey(id)) {
            return false;
        }
        if (used.size() >= capacity) {
            throw new IOException("the used-grant store holds " + capacity + " unexpired ids");
        }
        used.put(id, keepUntil.getEpochSecond());
        StringBuilder sb = new StringBuilder();
        used.forEach((k, v) -> sb.append(k).append(' ').append(v).append('\n'));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            SecureFiles.writeAtomically(file, sb.toString().getBytes(StandardCharsets.UTF_8), false);
        } catch (IOException e) {
            used.remove(id);
            throw e;
        }
        return true;
    }

    /** How many unexpired ids are kept. */
    public synchronized int size() {
        long now = clock.instant().getEpochSecond();
        return (int) used.values().stream().filter(exp -> exp >= now).count();
    }
}
