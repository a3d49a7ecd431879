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
        subcommands = {ModelCommand.Keygen.class, ModelCommand.Sign.class, ModelCommand.Verify.class})
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
                "a subcommand is required: keygen, sign or verify");
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
}
