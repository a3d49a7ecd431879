package dev.siteward.gateway.authorization;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * The {@code siteward-bundle.yaml} file of a signed policy bundle: which version of the bundle this is, when it was
 * signed and until when it may be used. {@code siteward policy sign} writes it into the bundle folder before signing
 * the whole folder, so the signature covers it like every policy file (docs/policies.md, "Signed bundles").
 *
 * <pre>
 * bundleFormat: 1
 * version: 7
 * created: "2026-11-26T23:40:00Z"
 * expires: "2026-12-26T23:40:00Z"
 * </pre>
 *
 * <p>Reading is strict: every key is required, unknown and duplicate keys are refused, {@code version} is a positive
 * integer, the times are RFC 3339 with an offset, and {@code expires} is after {@code created}.
 *
 * @param version bundle version, a positive integer; the gateway refuses a bundle older than the one it runs
 * @param created when the bundle was signed
 * @param expires the first instant at which the bundle is no longer valid
 */
public record PolicyBundleMetadata(long version, Instant created, Instant expires) {

    /** The file name, directly in the bundle folder. */
    public static final String FILE_NAME = "siteward-bundle.yaml";
    /** The only format version written and read. */
    public static final int FORMAT = 1;
    /** Versions are positive and at most this, so they fit every JSON number reader. */
    public static final long MAX_VERSION = 9_007_199_254_740_991L;

    private static final Set<String> KEYS = Set.of("bundleFormat", "version", "created", "expires");
    private static final int MAX_BYTES = 4096;

    public PolicyBundleMetadata {
        if (version < 1 || version > MAX_VERSION) {
            throw new IllegalArgumentException("bundle version must be a positive integer up to " + MAX_VERSION
                    + ", got " + version);
        }
        created = created.truncatedTo(ChronoUnit.SECONDS);
        expires = expires.truncatedTo(ChronoUnit.SECONDS);
        if (!expires.isAfter(created)) {
            throw new IllegalArgumentException("bundle expiry " + expires + " is not after its creation " + created);
        }
    }

    /** Returns true when the bundle may no longer be used at {@code now}. */
    public boolean expiredAt(Instant now) {
        return !now.isBefore(expires);
    }

    /** Renders the file; times in UTC with second precision, quoted so that no YAML reader turns them into dates. */
    public String toYaml() {
        return "# Siteward policy bundle metadata, written by 'siteward policy sign' and covered by bundle.sig.\n"
                + "bundleFormat: " + FORMAT + "\n"
                + "version: " + version + "\n"
                + "created: \"" + DateTimeFormatter.ISO_INSTANT.format(created) + "\"\n"
                + "expires: \"" + DateTimeFormatter.ISO_INSTANT.format(expires) + "\"\n";
    }

    /**
     * Parses the file's bytes.
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static PolicyBundleMetadata parse(byte[] yaml) {
        if (yaml.length > MAX_BYTES) {
            throw new IllegalArgumentException(FILE_NAME + " is larger than " + MAX_BYTES + " bytes");
        }
        Object root;
        try {
            root = plainYaml().load(new String(yaml, StandardCharsets.UTF_8));
        } catch (YAMLException e) {
            throw new IllegalArgumentException(FILE_NAME + " is not valid YAML: " + firstLine(e.getMessage()));
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(FILE_NAME + " must be a mapping with the keys " + sorted(KEYS));
        }
        for (Object key : map.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException(FILE_NAME + ": unknown key '" + key + "'");
            }
        }
        if (!String.valueOf(FORMAT).equals(text(map, "bundleFormat"))) {
            throw new IllegalArgumentException(FILE_NAME + ": unsupported bundleFormat '" + text(map, "bundleFormat")
                    + "' (this version reads " + FORMAT + ")");
        }
        String version = text(map, "version");
        if (!version.matches("[1-9][0-9]{0,15}")) {
            throw new IllegalArgumentException(FILE_NAME + ": version must be a positive integer, got '" + version
                    + "'");
        }
        return new PolicyBundleMetadata(Long.parseLong(version), instant(map, "created"), instant(map, "expires"));
    }

    private static String text(Map<?, ?> map, String key) {
        Object v = map.get(key);
        if (v == null) {
            throw new IllegalArgumentException(FILE_NAME + ": '" + key + "' is missing");
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(FILE_NAME + ": '" + key + "' must be a single value");
        }
        return s;
    }

    private static Instant instant(Map<?, ?> map, String key) {
        String s = text(map, key);
        try {
            return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(FILE_NAME + ": '" + key + "' must be an RFC 3339 time, got '" + s + "'");
        }
    }

    /** A YAML reader without implicit types (every scalar is a string) that refuses duplicate keys and aliases. */
    private static Yaml plainYaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(0);
        options.setAllowRecursiveKeys(false);
        org.yaml.snakeyaml.DumperOptions dump = new org.yaml.snakeyaml.DumperOptions();
        Resolver stringsOnly = new Resolver() {
            @Override
            protected void addImplicitResolvers() {
                // no implicit int, bool, float or timestamp: values stay text and are parsed here
            }
        };
        return new Yaml(new SafeConstructor(options), new Representer(dump), dump, options, stringsOnly);
    }

    private static List<String> sorted(Set<String> keys) {
        return keys.stream().sorted().toList();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
