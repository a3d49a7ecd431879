package dev.siteward.gateway.cli;

import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelSignatureException;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.modelsig.ModelVerifier;
import dev.siteward.pki.modelsig.SignedModel;
import dev.siteward.pki.modelsig.VerificationResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code siteward model ...}: publisher keys, and model signatures in the OpenSSF model-signing v1.0 format
 * (docs/model-signing.md). The crypto lives in {@code dev.siteward.pki.modelsig}; these commands parse, call it and
 * print.
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Publisher keys and model signatures (OpenSSF model-signing v1.0).",
        subcommands = {ModelCommand.Keygen.class, ModelCommand.Sign.class, ModelCommand.Verify.class,
                ModelCommand.Publish.class, ModelCommand.Release.class, ModelCommand.Withdraw.class,
                ModelCommand.ListModels.class, ModelCommand.SignWithdrawal.class})
public final class ModelCommand implements Runnable {

    static final String KEY_FILE = "publisher-key.pem";
    static final String CSR_FILE = "publisher.csr";
    static final String CERT_FILE = "publisher-cert.pem";
    static final Duration SELF_SIGNED_VALIDITY = Duration.ofDays(365);

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: keygen, sign, verify, sign-withdrawal, publish, release, withdraw or list");
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true,
            description = {"Create a publisher key pair in DIR: publisher-key.pem (PKCS#8, mode 0600), "
                    + "publisher.csr (for the publisher CA: siteward ca issue --profile publisher) and "
                    + "publisher-cert.pem (self-signed, valid one year, for trying certificate mode).",
                    "Existing files are never overwritten."})
    static final class Keygen implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write the files to.")
        Path out;

        @Option(names = "--name", defaultValue = "siteward-publisher", paramLabel = "NAME",
                description = "Common name for the CSR and the self-signed certificate. Default: ${DEFAULT-VALUE}.")
        String name;

        @Option(names = "--key-type", defaultValue = "p256", paramLabel = "p256|p384",
                description = "ECDSA curve. Default: ${DEFAULT-VALUE}.")
        String keyType;

        @Override
        public Integer call() throws IOException, GeneralSecurityException {
            KeyMaterial.Algorithm algorithm = switch (keyType) {
                case "p256" -> KeyMaterial.Algorithm.EC_P256;
                case "p384" -> KeyMaterial.Algorithm.EC_P384;
                default -> throw CliException.badInput("invalid --key-type '" + keyType + "': expected p256 or p384");
            };
            if (name.isBlank() || name.length() > 64) {
                throw CliException.badInput("invalid --name: 1 to 64 characters expected");
            }
            Path key = out.resolve(KEY_FILE);
            Path csr = out.resolve(CSR_FILE);
            Path cert = out.resolve(CERT_FILE);
            for (Path p : List.of(key, csr, cert)) {
                if (Files.exists(p)) {
                    throw CliException.badInput(p + " already exists; keygen never overwrites a key (choose "
                            + "another --out)");
                }
            }
            KeyPair pair = KeyMaterial.generate(algorithm);
            X509Certificate selfSigned = KeyMaterial.selfSignedCertificate(pair, name, Clock.systemUTC(),
                    SELF_SIGNED_VALIDITY);
            Files.createDirectories(out);
            SecureFiles.createSecret(key, KeyMaterial.toPem(pair.getPrivate()).getBytes(StandardCharsets.US_ASCII));
            SecureFiles.writeAtomically(csr,
                    KeyMaterial.certificationRequestPem(KeyMaterial.certificationRequest(pair, name)), false);
            SecureFiles.writeAtomically(cert, KeyMaterial.toPem(selfSigned), false);
            PrintWriter o = spec.commandLine().getOut();
            o.println("wrote " + key + " (private key, keep it secret)");
            o.println("wrote " + csr + " (send it to the publisher CA)");
            o.println("wrote " + cert + " (self-signed, for trying; valid until "
                    + selfSigned.getNotAfter().toInstant() + ")");
            return 0;
        }
    }

    @Command(name = "sign", mixinStandardHelpOptions = true,
            description = {"Sign a model (a folder or a single file) and write the signature (a Sigstore bundle).",
                    "With --cert-chain the bundle carries the signing certificate and its intermediates "
                            + "(certificate mode); without it only a hint of the public key (key mode)."})
    static final class Sign implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        PublisherSigner keys;

        @Parameters(index = "0", paramLabel = "MODEL_PATH", description = "The model folder or file.")
        Path model;

        @Option(names = "--key", required = true, paramLabel = "KEY",
                description = "Private key PEM file; with --pkcs11-config, the key's alias in the token.")
        String key;

        @Option(names = "--cert-chain", paramLabel = "PEM",
                description = "Signing certificate first, then intermediates (certificate mode).")
        Path certChain;

        @Option(names = "--ignore-paths", paramLabel = "P",
                description = "Leave this path out (absolute or relative to the current directory); repeatable.")
        List<Path> ignorePaths = new ArrayList<>();

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Signature file to write.")
        Path out;

        @Override
        public Integer call() {
            List<X509Certificate> chain = certChain == null ? null : PemFiles.certificates(certChain, "--cert-chain");
            ModelSigner signer = keys.signer(key, chain);
            ModelLocation location = ModelLocation.of(model).signatureFile(out)
                    .ignorePaths(ignorePaths, Path.of("").toAbsolutePath());
            SignedModel signed = sign(signer, location, "model " + model);
            try {
                signed.writeTo(out);
            } catch (IOException e) {
                throw CliException.badInput("cannot write " + out + ": " + e.getMessage());
            }
            spec.commandLine().getOut().println("signed " + signed.manifest().modelName() + ": "
                    + signed.manifest().fileCount() + " files");
            return 0;
        }
    }

    /** Signs, mapping refusals (symbolic links, empty model, key and certificate that do not match) to exit 2. */
    static SignedModel sign(ModelSigner signer, ModelLocation location, String what) {
        try {
            return signer.sign(location);
        } catch (NoSuchFileException e) {
            throw CliException.badInput(what + " not found");
        } catch (IOException e) {
            throw CliException.badInput("cannot read " + what + ": " + e.getMessage());
        } catch (ModelSignatureException e) {
            throw CliException.badInput("cannot sign " + what + ": " + e.getMessage());
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Verify a model against its signature: trust, signature, then every file re-hashed.",
                    "Exit 0 and one line 'verified <model name>: <n> files'; exit 1 with the reason and one line "
                            + "per differing file on stderr; exit 2 when an input cannot be read."})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "MODEL_PATH", description = "The model folder or file.")
        Path model;

        @Option(names = "--signature", required = true, paramLabel = "FILE", description = "The signature (model.sig).")
        Path signature;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Trust trust;

        static final class Trust {
            @Option(names = "--certificate-chain", paramLabel = "ROOT_PEM",
                    description = "Trusted root certificate(s), PEM (certificate-mode signatures).")
            Path roots;

            @Option(names = "--public-key", paramLabel = "PEM", description = "The publisher's public key, PEM "
                    + "(key-mode signatures).")
            Path publicKey;
        }

        @Option(names = "--ignore-paths", paramLabel = "P",
                description = "Do not compare this path (absolute or relative to the current directory); repeatable.")
        List<Path> ignorePaths = new ArrayList<>();

        @Override
        public Integer call() {
            ModelVerifier verifier = trust.roots != null
                    ? ModelVerifier.trustingRoots(PemFiles.certificates(trust.roots, "--certificate-chain"))
                    : ModelVerifier.trustingKey(PemFiles.publicKey(trust.publicKey, "--public-key"));
            byte[] bundle = readSignature(signature);
            ModelLocation location = ModelLocation.of(model).signatureFile(signature)
                    .ignorePaths(ignorePaths, Path.of("").toAbsolutePath());
            VerificationResult result = verify(verifier, location, bundle, "model " + model);
            if (!result.verified()) {
                return VerificationReport.failed(result.failure().orElseThrow(), spec.commandLine().getErr());
            }
            spec.commandLine().getOut().println("verified " + result.modelName() + ": " + result.fileCount()
                    + " files");
            return 0;
        }
    }

    /** Reads a signature file; a missing or unreadable one is bad input (exit 2). */
    static byte[] readSignature(Path file) {
        try {
            if (Files.size(file) > SIGNATURE_MAX_BYTES) {
                throw CliException.badInput("signature " + file + " is larger than " + SIGNATURE_MAX_BYTES
                        + " bytes");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw CliException.badInput("signature " + file + ": file not found");
        } catch (IOException e) {
            throw CliException.badInput("cannot read signature " + file + ": " + e.getMessage());
        }
    }

    /** A bundle holds a manifest of digests and a certificate chain; 64 MiB is far above any real one. */
    static final long SIGNATURE_MAX_BYTES = 64L << 20;

    /** Verifies; I/O failures (missing model, unreadable file) are bad input (exit 2), never a failed check. */
    static VerificationResult verify(ModelVerifier verifier, ModelLocation location, byte[] bundle, String what) {
        try {
            return verifier.verify(location, bundle);
        } catch (NoSuchFileException e) {
            throw CliException.badInput(what + " not found");
        } catch (IOException e) {
            throw CliException.badInput("cannot read " + what + ": " + e.getMessage());
        }
    }

    @Command(name = "publish", mixinStandardHelpOptions = true,
            description = {"Verify a signed model and store it in the gateway's release repository (releases nothing).",
                    "Checks, before anything is stored: the version is greater than every published one, a trusted "
                            + "publisher may sign NAME (siteward publisher add), the signature over every file, "
                            + "siteward-model.yaml if present, and that every .onnx file is self-contained.",
                    "Works on the data dir while the gateway is stopped, else through its admin API (files are "
                            + "streamed). Exit 1 with the check's code when refused, 2 for bad input."})
    static final class Publish implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", paramLabel = "MODEL_PATH", description = "The model folder or file.")
        Path model;

        @Option(names = "--signature", required = true, paramLabel = "FILE", description = "The signature (model.sig).")
        Path signature;

        @Option(names = "--name", required = true, paramLabel = "NAME", description = "Model name, team/name.")
        String name;

        @Option(names = "--version", required = true, paramLabel = "N", description = "Model version (integer).")
        long version;

        @Override
        public Integer call() throws Exception {
            if (!dev.siteward.pki.modelsig.ModelNames.isValid(name)) {
                throw CliException.badInput("invalid --name '" + name + "': expected team/name, each part "
                        + "[a-z0-9][a-z0-9._-]*");
            }
            if (version < 0) {
                throw CliException.badInput("invalid --version " + version + ": expected a non-negative integer");
            }
            byte[] bundle = readSignature(signature);
            try (ModelOperations ops = ModelOperations.open(dataDir)) {
                var r = ops.publish(model, signature, bundle, name, version);
                spec.commandLine().getOut().println("published " + name + " version " + version + ": "
                        + r.path("files").asLong() + " files, " + r.path("bytes").asLong() + " bytes, publisher "
                        + r.path("publisher").asText());
            } catch (NoSuchFileException e) {
                throw CliException.badInput("model " + model + " not found");
            } catch (IOException e) {
                throw CliException.badInput("cannot read model " + model + ": " + e.getMessage());
            }
            return 0;
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = {"Point a channel at a published version, for devices whose 'channel' label is C (no "
                    + "label: stable) and whose 'class' label is listed (--classes; default every class).",
                    "A version lower than the channel's current one is a rollback: devices are told to go back."})
    static final class Release implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", paramLabel = "NAME", description = "Model name.")
        String name;

        @Option(names = "--version", required = true, paramLabel = "N", description = "Published version.")
        long version;

        @Option(names = "--channel", required = true, paramLabel = "C", description = "Channel, e.g. stable.")
        String channel;

        @Option(names = "--classes", split = ",", paramLabel = "CLASS",
                description = "Device classes (comma-separated).")
        List<String> classes = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            try (ModelOperations ops = ModelOperations.open(dataDir)) {
                var r = ops.release(name, version, channel, classes);
                String rb = r.path("rollbackFrom").isNull() || r.path("rollbackFrom").isMissingNode() ? ""
                        : " (rollback from " + r.path("rollbackFrom").asLong() + ")";
                spec.commandLine().getOut().println("released " + name + " version " + version + " on channel "
                        + channel + " for " + (classes.isEmpty() ? "every class" : "classes "
                        + String.join(",", classes)) + rb);
            }
            return 0;
        }
    }

    @Command(name = "withdraw", mixinStandardHelpOptions = true,
            description = {"Store a publisher's signed withdrawal: the withdrawn versions can no longer be released, "
                    + "devices refuse them, and a channel whose release is withdrawn falls back to the highest "
                    + "version below it that is not."})
    static final class Withdraw implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Option(names = "--signature", required = true, paramLabel = "FILE",
                description = "The signed withdrawal (a Sigstore bundle).")
        Path signature;

        @Override
        public Integer call() throws Exception {
            byte[] bundle = readSignature(signature);
            try (ModelOperations ops = ModelOperations.open(dataDir)) {
                var r = ops.withdraw(bundle);
                long below = r.path("withdrawnBelow").asLong(-1);
                spec.commandLine().getOut().println("withdrawn " + r.path("model").asText() + ": "
                        + (below >= 0 ? "versions below " + below : "") + (below >= 0
                        && r.path("withdrawnVersions").size() > 0 ? " and " : "")
                        + (r.path("withdrawnVersions").size() > 0 ? "versions " + r.path("withdrawnVersions") : "")
                        + " (publisher " + r.path("publisher").asText() + ")");
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the repository's models, versions and releases.")
    static final class ListModels implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (ModelOperations ops = ModelOperations.open(dataDir)) {
                var r = ops.list();
                PrintWriter o = spec.commandLine().getOut();
                if (json) {
                    o.println(ModelOperations.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                    return 0;
                }
                if (r.size() == 0) {
                    o.println("no models published");
                }
                for (var m : r) {
                    o.println(m.path("name").asText());
                    for (var v : m.path("versions")) {
                        long bytes = 0;
                        for (var f : v.path("files")) {
                            bytes += f.path("size").asLong();
                        }
                        o.println("  version " + v.path("version").asLong() + "  files=" + v.path("files").size()
                                + "  bytes=" + bytes + "  publisher=" + v.path("publisher").asText()
                                + "  published=" + v.path("publishedAt").asText()
                                + (v.path("withdrawn").asBoolean() ? "  WITHDRAWN" : ""));
                    }
                    for (var rel : m.path("releases")) {
                        o.println("  release channel=" + rel.path("channel").asText() + "  version="
                                + rel.path("version").asLong() + "  classes="
                                + (rel.path("classes").size() == 0 ? "*" : join(rel.path("classes")))
                                + (rel.path("rollbackFrom").isNull() ? "" : "  rollbackFrom="
                                + rel.path("rollbackFrom").asLong()));
                    }
                }
            }
            return 0;
        }

        private static String join(com.fasterxml.jackson.databind.JsonNode array) {
            List<String> out = new ArrayList<>();
            array.forEach(n -> out.add(n.asText()));
            return String.join(",", out);
        }
    }

    @Command(name = "sign-withdrawal", mixinStandardHelpOptions = true,
            description = {"As a publisher, sign a withdrawal of versions of a model (docs/model-signing.md, "
                    + "Withdrawals): every version below --below and/or the --versions listed.",
                    "Signed with the same key and certificate chain as the model; give it to the site's operator "
                            + "for 'siteward model withdraw'."})
    static final class SignWithdrawal implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        PublisherSigner keys;

        @Parameters(index = "0", paramLabel = "NAME", description = "Model name, team/name.")
        String name;

        @Option(names = "--below", paramLabel = "N", description = "Withdraw every version below N.")
        Long below;

        @Option(names = "--versions", split = ",", paramLabel = "V", description = "Withdraw these versions.")
        List<Long> versions = new ArrayList<>();

        @Option(names = "--reason", paramLabel = "TEXT", description = "A short reason, shown to operators.")
        String reason;

        @Option(names = "--key", required = true, paramLabel = "KEY",
                description = "Private key PEM file; with --pkcs11-config, the key's alias in the token.")
        String key;

        @Option(names = "--cert-chain", paramLabel = "PEM",
                description = "Signing certificate first, then intermediates (certificate mode).")
        Path certChain;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Withdrawal file to write.")
        Path out;

        @Override
        public Integer call() {
            if (!dev.siteward.pki.modelsig.ModelNames.isValid(name)) {
                throw CliException.badInput("invalid model name '" + name + "': expected team/name");
            }
            dev.siteward.pki.modelsig.Withdrawal withdrawal;
            try {
                withdrawal = new dev.siteward.pki.modelsig.Withdrawal(name, below == null
                        ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(below), versions,
                        Clock.systemUTC().instant(), reason);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput("cannot withdraw: " + e.getMessage() + " (give --below and/or "
                        + "--versions)");
            }
            List<X509Certificate> chain = certChain == null ? null : PemFiles.certificates(certChain, "--cert-chain");
            byte[] bundle;
            try {
                bundle = keys.signer(key, chain).signWithdrawal(withdrawal);
            } catch (ModelSignatureException e) {
                throw CliException.badInput("cannot sign the withdrawal: " + e.getMessage());
            }
            try {
                SecureFiles.writeAtomically(out, new String(bundle, StandardCharsets.UTF_8), false);
            } catch (IOException e) {
                throw CliException.badInput("cannot write " + out + ": " + e.getMessage());
            }
            spec.commandLine().getOut().println("signed withdrawal of " + name + ": "
                    + (below != null ? "versions below " + below : "")
                    + (below != null && !versions.isEmpty() ? " and " : "")
                    + (versions.isEmpty() ? "" : "versions " + withdrawal.withdrawnVersions()));
            return 0;
        }
    }
}
