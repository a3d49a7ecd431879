package dev.siteward.gateway.authorization;

import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.modelsig.FileDifference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches {@code <data-dir>/policy/incoming/} for signed bundle folders dropped in by an operator or a deployment tool.
 *
 * <p>A folder is taken only once it is complete: it holds {@code bundle.sig}, and its file list, sizes and
 * modification times stayed the same for {@link #DEFAULT_SETTLE} (measured with the injected clock across scans), so
 * a half-copied folder is never read. Names starting with {@code .} are ignored (copy to {@code .name}, then rename).
 * A folder without {@code bundle.sig} is left alone. After an attempt the folder moves to
 * {@code policy/processed/<time>-<name>/} or {@code policy/rejected/<time>-<name>/}, the latter with
 * {@code <time>-<name>.reason.txt} beside it (code, message, and per-file differences).
 */
public final class IncomingBundles {

    /** How long a folder must stay unchanged before it is read. */
    public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(2);

    private static final Logger LOG = LoggerFactory.getLogger(IncomingBundles.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'",
            Locale.ROOT).withZone(ZoneOffset.UTC);

    /** What happened to one folder. */
    public record Outcome(String folder, boolean installed, long version, String code, String message, Path movedTo) {
    }

    private record Seen(String fingerprint, Instant since) {
    }

    private final PolicyService policies;
    private final Clock clock;
    private final Duration settle;
    private final Path incoming;
    private final Path processed;
    private final Path rejected;
    private final Map<String, Seen> seen = new HashMap<>();

    public IncomingBundles(PolicyService policies, Clock clock, Duration settle) throws IOException {
        this.policies = policies;
        this.clock = clock;
        this.settle = settle;
        Path dir = policies.directory();
        this.incoming = Files.createDirectories(dir.resolve("incoming"));
        this.processed = Files.createDirectories(dir.resolve("processed"));
        this.rejected = Files.createDirectories(dir.resolve("rejected"));
    }

    /** The folder watched. */
    public Path directory() {
        return incoming;
    }

    /** Looks once at the incoming folder and installs every complete, settled bundle folder, oldest name first. */
    public synchronized List<Outcome> scan() {
        List<Outcome> outcomes = new ArrayList<>();
        List<Path> entries;
        try (Stream<Path> s = Files.list(incoming)) {
            entries = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", incoming, e.getMessage());
            return outcomes;
        }
        Instant now = clock.instant();
        seen.keySet().removeIf(name -> entries.stream().noneMatch(p -> p.getFileName().toString().equals(name)));
        for (Path entry : entries) {
            String name = entry.getFileName().toString();
            if (!Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)
                    || !Files.isRegularFile(entry.resolve(PolicyBundles.SIGNATURE_FILE), LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            String fp;
            try {
                fp = fingerprint(entry);
            } catch (IOException e) {
                continue; // changing under us: look again next time
            }
            Seen s = seen.get(name);
            if (s == null || !s.fingerprint().equals(fp)) {
                seen.put(name, new Seen(fp, now));
                if (!settle.isZero()) {
                    continue;
                }
                s = seen.get(name);
            }
            if (Duration.between(s.since(), now).compareTo(settle) < 0) {
                continue;
            }
            seen.remove(name);
            outcomes.add(process(entry, name, now));
        }
        return outcomes;
    }

    private Outcome process(Path folder, String name, Instant now) {
        String stamped = STAMP.format(now) + "-" + name;
        try {
            PolicyService.BundleState s = policies.install(folder);
            Path to = move(folder, processed.resolve(stamped));
            return new Outcome(name, true, s.version(), null, "installed", to);
        } catch (BundleException e) {
            Path to = move(folder, rejected.resolve(stamped));
            StringBuilder reason = new StringBuilder();
            reason.append(e.code()).append(": ").append(e.getMessage()).append('\n');
            e.failure().ifPresent(f -> {
                for (FileDifference d : f.differences()) {
                    reason.append(d.kind().name().toLowerCase(Locale.ROOT)).append(' ').append(d.name()).append('\n');
                }
            });
            try {
                SecureFiles.writeAtomically(rejected.resolve(stamped + ".reason.txt"),
                        reason.toString().getBytes(StandardCharsets.UTF_8), false);
            } catch (IOException io) {
                LOG.warn("cannot write the rejection reason for {}: {}", name, io.getMessage());
            }
            return new Outcome(name, false, 0, e.code(), e.getMessage(), to);
        }
    }

    private Path move(Path from, Path to) {
        try {
            return Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.error("cannot move {} out of the incoming folder: {}", from, e.getMessage());
            return from;
        }
    }

    /** File names, sizes and modification times of everything below {@code dir}. */
    private static String fingerprint(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted().toList()) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                sb.append(dir.relativize(p)).append('|').append(a.size()).append('|')
                        .append(a.lastModifiedTime().toMillis()).append('\n');
            }
        }
        return sb.toString();
    }
}
