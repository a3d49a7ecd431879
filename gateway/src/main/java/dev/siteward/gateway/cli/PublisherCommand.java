package dev.siteward.gateway.cli;

import dev.siteward.gateway.trust.PublisherTrust;
import dev.siteward.gateway.trust.PublisherTrustException;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PemCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code siteward publisher add|list|remove}: which publisher roots the site trusts for which model names and for
 * policy bundles ({@code <data-dir>/trust/publishers.yaml}). The gateway reads the file at each publish, install and
 * push, so a change applies without a restart.
 */
@Command(name = "publisher", mixinStandardHelpOptions = true,
        description = "Trusted model and policy publishers (roots and the names they may sign).",
        subcommands = {PublisherCommand.Add.class, PublisherCommand.ListPublishers.class,
                PublisherCommand.Remove.class})
public final class PublisherCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: add, list or remove");
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Trust a publisher: its root certificate(s) and what it may sign. Adding a name that "
                    + "exists replaces it.",
                    "Example: siteward publisher add vision-team --roots vision-ca.pem --models 'vision/*'"})
    static final class Add implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "Publisher name ([a-z0-9][a-z0-9._-]*).")
        String name;

        @Option(names = "--roots", required = true, paramLabel = "PEM",
                description = "The publisher's root certificate(s): its CA, or a self-signed publisher certificate.")
        Path roots;

        @Option(names = "--models", paramLabel = "RULE", split = ",",
                description = "Model names it may sign: team/name, team/* or * (repeatable or comma-separated).")
        List<String> models = new ArrayList<>();

        @Option(names = "--policies", description = "It may sign policy bundles.")
        boolean policies;

        @Override
        public Integer call() {
            if (models.isEmpty() && !policies) {
                throw CliException.badInput("publisher '" + name + "' would be trusted for nothing: give --models "
                        + "and/or --policies");
            }
            List<X509Certificate> certs;
            try {
                certs = PemCodec.parseCertificates(Files.readString(roots, StandardCharsets.US_ASCII));
            } catch (IOException e) {
                throw CliException.badInput("--roots: cannot read " + roots + ": " + e.getMessage());
            } catch (CertificateException e) {
                throw CliException.badInput("--roots: " + roots + " is not a PEM certificate file: "
                        + e.getMessage());
            }
            if (certs.isEmpty()) {
                throw CliException.badInput("--roots: " + roots + " holds no certificate");
            }
            PublisherTrust.Publisher publisher;
            try {
                publisher = new PublisherTrust.Publisher(name, certs, models, policies);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput(e.getMessage());
            }
            Path dir = dataDir.path();
            save(load(dir).with(publisher), dir);
            spec.commandLine().getOut().println("trusted " + name + ": models "
                    + (models.isEmpty() ? "none" : String.join(",", models))
                    + ", policies " + (policies ? "yes" : "no") + ", " + certs.size() + " root(s) "
                    + fingerprints(certs));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the trusted publishers.")
    static final class ListPublishers implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PublisherTrust trust = load(dataDir.path());
            if (trust.publishers().isEmpty()) {
                spec.commandLine().getOut().println("no trusted publishers (every model and policy bundle is "
                        + "refused)");
            }
            java.io.PrintWriter out = spec.commandLine().getOut();
            for (PublisherTrust.Publisher p : trust.publishers()) {
                out.println(p.name() + "  models=" + (p.models().isEmpty() ? "-" : String.join(",", p.models()))
                        + "  policies=" + (p.policies() ? "yes" : "no") + "  roots=" + fingerprints(p.roots()));
            }
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Stop trusting a publisher (models already published stay until withdrawn or replaced).")
    static final class Remove implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            Path dir = dataDir.path();
            PublisherTrust trust = load(dir);
            if (trust.publisher(name).isEmpty()) {
                throw CliException.badInput("no publisher named '" + name + "'");
            }
            save(trust.without(name), dir);
            spec.commandLine().getOut().println("removed " + name);
            return 0;
        }
    }

    static PublisherTrust load(Path dataDir) {
        try {
            return PublisherTrust.load(dataDir);
        } catch (PublisherTrustException e) {
            throw CliException.badInput(e.getMessage());
        }
    }

    private static void save(PublisherTrust trust, Path dataDir) {
        try {
            trust.save(dataDir);
        } catch (IOException e) {
            throw CliException.badInput("cannot write " + dataDir.resolve(PublisherTrust.DIRECTORY) + ": "
                    + e.getMessage());
        }
    }

    private static String fingerprints(List<X509Certificate> certs) {
        List<String> out = new ArrayList<>();
        for (X509Certificate c : certs) {
            out.add(Certificates.fingerprint(c));
        }
        return String.join(",", out);
    }
}
