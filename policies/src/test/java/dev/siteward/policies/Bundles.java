package dev.siteward.policies;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;

/** Test fixtures: writes policy files into a temporary bundle directory and builds requests. */
public final class Bundles {

    private Bundles() {
    }

    /** Writes {@code yaml} to {@code dir/name} (creating parents) and returns the path. */
    public static Path write(Path dir, String name, String yaml) {
        try {
            Path p = dir.resolve(name);
            Files.createDirectories(p.getParent());
            Files.writeString(p, yaml);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes one policy file {@code policy.yaml} holding {@code rulesYaml} under {@code rules:} and loads it. */
    public static PolicySet load(Path dir, String rulesYaml) {
        write(dir, "policy.yaml", "schemaVersion: 1\nrules:\n" + rulesYaml);
        return PolicyLoader.load(dir, new SiteConfig(ZoneId.of("Europe/Berlin")));
    }

    /** A request from a device with the given labels. */
    public static AccessRequest device(String id, Map<String, String> labels, String action, String resource) {
        return new AccessRequest(Subject.device(id, labels, null), action, new Resource(resource, null, Map.of()),
                RequestContext.NORMAL);
    }

    /** A request from an admin with the given roles. */
    public static AccessRequest admin(String name, Set<String> roles, String action, Resource resource) {
        return new AccessRequest(Subject.admin(name, roles, null), action, resource, RequestContext.NORMAL);
    }

    /** A clock that tests move by hand; never sleeps. */
    public static final class MutableClock extends Clock {
        private Instant now;

        public MutableClock(Instant now) {
            this.now = now;
        }

        public void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
