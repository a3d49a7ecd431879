package dev.siteward.gateway.trust;

import dev.siteward.pki.PemCodec;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.modelsig.ModelNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Which publishers the site trusts, and for what: the roots of each publisher (the CA that certifies a team's
 * signing keys, or a self-signed publisher certificate), the model names it may sign (name rules, see
 * {@link ModelNames}), and whether it may sign policy bundles. The gateway holds only these roots, never a publisher
 * key, so a compromised gateway cannot make a model or a policy bundle that verifies.
 *
 * <p>Kept in {@code <data-dir>/trust/publishers.yaml}, next to one PEM file of roots per publisher:
 *
 * <pre>
 * publishers:
 *   - name: vision-team
 *     roots: vision-team.pem
 *     models: ["vision/*"]
 *     policies: false
 *   - name: security-team
 *     roots: security-team.pem
 *     models: []
 *     policies: true
 * </pre>
 *
 * <p>Reading is strict: unknown or duplicate keys, invalid names or rules, a roots file that is missing, empty or not
 * a CA certificate are refused with a {@link PublisherTrustException} naming the problem. A missing
 * {@code publishers.yaml} means no publisher is trusted (everything signed is refused: fail closed).
 */
public final class PublisherTrust {

    /** The folder under the data dir. */
    public static final String DIRECTORY = "trust";
    /** The file in that folder. */
    public static final String FILE_NAME = "publishers.yaml";

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Set<String> KEYS = Set.of("name", "roots", "models", "policies");
    private static final int MAX_BYTES = 1 << 20;

    /**
     * One trusted publisher.
     *
     * @param name      the publisher's name in the site's configuration
     * @param roots     the certificates a signature chain must end at
     * @param models    name rules for the models it may sign (empty: none)
     * @param policies  whether it may sign policy bundles
     */
    public record Publisher(String name, List<X509Certificate> roots, List<String> models, boolean policies) {
        public Publisher {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("publisher name '" + name + "' must match " + NAME.pattern());
            }
            roots = List.copyOf(roots);
            models = List.copyOf(models);
            if (roots.isEmpty()) {
                throw new IllegalArgumentException("publisher '" + name + "' has no root certificate");
            }
            for (String rule : models) {
                if (!ModelNames.isValidRule(rule)) {
                    throw new IllegalArgumentException("publisher '" + name + "': model rule '" + rule
                            + "' is not a model name, team/* or *");
                }
            }
        }

        /** Whether this publisher may sign the model {@code modelName}. */
        public boolean maySign(String modelName) {
            return ModelNames.anyMatches(models, modelName);
        }
    }

    private final List<Publisher> publishers;

    public PublisherTrust(List<Publisher> publishers) {
        Set<String> names = new LinkedHashSet<>();
        for (Publisher p : publishers) {
            if (!names.add(p.name())) {
                throw new IllegalArgumentException("publisher '" + p.name() + "' is listed twice");
            }
        }
        this.publishers = List.copyOf(publishers);
    }

    /** No publisher trusted. */
    public static PublisherTrust none() {
        return new PublisherTrust(List.of());
    }

    /** All publishers, in file order. */
    public List<Publisher> publishers() {
        return publishers;
    }

    /** The publisher called {@code name}. */
    public Optional<Publisher> publisher(String name) {
        return publishers.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The publishers whose name rules cover {@code modelName}. */
    public List<Publisher> publishersForModel(String modelName) {
        return publishers.stream().filter(p -> p.maySign(modelName)).toList();
    }

    /** The roots a signature over the model {@code modelName} may chain to (empty: nobody may sign it). */
    public List<X509Certificate> rootsForModel(String modelName) {
        List<X509Certificate> roots = new ArrayList<>();
        for (Publisher p : publishersForModel(modelName)) {
            roots.addAll(p.roots());
        }
        return roots;
    }

    /** The roots a policy bundle signature may chain to (empty: no bundle can be accepted). */
    public List<X509Certificate> policyRoots() {
        List<X509Certificate> roots = new ArrayList<>();
        for (Publisher p : publishers) {
            if (p.policies()) {
                roots.addAll(p.roots());
            }
        }
        return roots;
    }

    /** A copy with {@code publisher} added, or replacing the one of the same name. */
    public PublisherTrust with(Publisher publisher) {
        List<Publisher> next = new ArrayList<>();
        boolean replaced = false;
        for (Publisher p : publishers) {
            if (p.name().equals(publisher.name())) {
                next.add(publisher);
                replaced = true;
            } else {
                next.add(p);
            }
        }
        if (!replaced) {
            next.add(publisher);
        }
        return new PublisherTrust(next);
    }

    /** A copy without the publisher called {@code name}. */
    public PublisherTrust without(String name) {
        return new PublisherTrust(publishers.stream().filter(p -> !p.name().equals(name)).toList());
    }

    /** Reads {@code <dataDir>/trust/publishers.yaml}; no file means no publisher. */
    public static PublisherTrust load(Path dataDir) throws PublisherTrustException {
        Path dir = dataDir.resolve(DIRECTORY);
        Path file = dir.resolve(FILE_NAME);
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new PublisherTrustException(file + " is larger than " + MAX_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return none();
        } catch (IOException e) {
            throw new PublisherTrustException("cannot read " + file + ": " + e.getMessage());
        }
        return parse(bytes, dir, file.toString());
    }

    static PublisherTrust parse(byte[] yaml, Path dir, String source) throws PublisherTrustException {
        Object root;
        try {
            root = plainYaml().load(new String(yaml, StandardCharsets.UTF_8));
        } catch (YAMLException e) {
            throw new PublisherTrustException(source + " is not valid YAML: " + firstLine(e.getMessage()));
        }
        if (root == null) {
            return none();
        }
        if (!(root instanceof Map<?, ?> map) || !map.keySet().equals(Set.of("publishers"))) {
            throw new PublisherTrustException(source + " must be a mapping with the single key 'publishers'");
        }
        Object list = map.get("publishers");
        if (list == null || "".equals(list)) {
            return none();
        }
        if (!(list instanceof List<?> entries)) {
            throw new PublisherTrustException(source + ": 'publishers' must be a list");
        }
        List<Publisher> publishers = new ArrayList<>();
        int index = 0;
        for (Object entry : entries) {
            String where = source + ": publishers[" + index++ + "]";
            if (!(entry instanceof Map<?, ?> p)) {
                throw new PublisherTrustException(where + " must be a mapping");
            }
            for (Object key : p.keySet()) {
                if (!KEYS.contains(key)) {
                    throw new PublisherTrustException(where + ": unknown key '" + key + "' (allowed: name, roots, "
                            + "models, policies)");
                }
            }
            String name = scalar(p, "name", where, true);
            String rootsFile = scalar(p, "roots", where, true);
            String policies = scalar(p, "policies", where, false);
            if (policies != null && !policies.equals("true") && !policies.equals("false")) {
                throw new PublisherTrustException(where + ": 'policies' must be true or false");
            }
            List<String> models = new ArrayList<>();
            Object m = p.get("models");
            if (m instanceof List<?> rules) {
                for (Object rule : rules) {
                    if (!(rule instanceof String s)) {
                        throw new PublisherTrustException(where + ": 'models' must be a list of names or rules");
                    }
                    models.add(s);
                }
            } else if (m != null && !"".equals(m)) {
                throw new PublisherTrustException(where + ": 'models' must be a list of names or rules");
            }
            List<X509Certificate> roots = readRoots(dir, rootsFile, where);
            try {
                publishers.add(new Publisher(name, roots, models, "true".equals(policies)));
            } catch (IllegalArgumentException e) {
                throw new PublisherTrustException(where + ": " + e.getMessage());
            }
        }
        try {
            return new PublisherTrust(publishers);
        } catch (IllegalArgumentException e) {
            throw new PublisherTrustException(source + ": " + e.getMessage());
        }
    }

    private static List<X509Certificate> readRoots(Path dir, String file, String where)
            throws PublisherTrustException {
        if (file.contains("/") || file.contains("\\") || file.startsWith(".")) {
            throw new PublisherTrustException(where + ": 'roots' must be a file name in " + dir + ", got '" + file
                    + "'");
        }
        Path path = dir.resolve(file);
        List<X509Certificate> roots;
        try {
            roots = PemCodec.parseCertificates(Files.readString(path, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new PublisherTrustException(where + ": cannot read roots file " + path + ": " + e.getMessage());
        } catch (CertificateException e) {
            throw new PublisherTrustException(where + ": roots file " + path + " holds no readable certificate: "
                    + e.getMessage());
        }
        if (roots.isEmpty()) {
            throw new PublisherTrustException(where + ": roots file " + path + " holds no certificate");
        }
        return roots;
    }

    /**
     * Writes {@code publishers.yaml} and one {@code <name>.pem} per publisher into {@code <dataDir>/trust/}, each
     * atomically; the YAML file last, so a reader never sees a publisher whose roots file is not there yet.
     */
    public void save(Path dataDir) throws IOException {
        Path dir = dataDir.resolve(DIRECTORY);
        Files.createDirectories(dir);
        StringBuilder yaml = new StringBuilder("# Publishers this site trusts: 'siteward publisher add|remove|list'."
                + " Roots files sit next to this file.\npublishers:\n");
        for (Publisher p : publishers) {
            String rootsFile = p.name() + ".pem";
            SecureFiles.writeAtomically(dir.resolve(rootsFile), PemCodec.certificates(p.roots()), false);
            yaml.append("  - name: ").append(p.name()).append('\n')
                    .append("    roots: ").append(rootsFile).append('\n')
                    .append("    models: [");
            for (int i = 0; i < p.models().size(); i++) {
                yaml.append(i == 0 ? "\"" : ", \"").append(p.models().get(i)).append('"');
            }
            yaml.append("]\n").append("    policies: ").append(p.policies()).append('\n');
        }
        if (publishers.isEmpty()) {
            yaml.setLength(yaml.length() - 1);
            yaml.append(" []\n");
        }
        SecureFiles.writeAtomically(dir.resolve(FILE_NAME), yaml.toString(), false);
    }

    private static String scalar(Map<?, ?> map, String key, String where, boolean required)
            throws PublisherTrustException {
        Object v = map.get(key);
        if (v == null) {
            if (required) {
                throw new PublisherTrustException(where + ": '" + key + "' is missing");
            }
            return null;
        }
        if (!(v instanceof String s)) {
            throw new PublisherTrustException(where + ": '" + key + "' must be a single value");
        }
        return s;
    }

    private static Yaml plainYaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(0);
        options.setAllowRecursiveKeys(false);
        DumperOptions dump = new DumperOptions();
        Resolver stringsOnly = new Resolver() {
            @Override
            protected void addImplicitResolvers() {
                // every scalar stays text
            }
        };
        return new Yaml(new SafeConstructor(options), new Representer(dump), dump, options, stringsOnly);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
