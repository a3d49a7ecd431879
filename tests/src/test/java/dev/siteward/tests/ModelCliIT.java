package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.siteward.tests.Processes.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code siteward model keygen | sign | verify} as a publisher and an operator run them: keys made by the CLI, a
 * publisher chain from {@code siteward ca --kind publisher}, checks with the real {@code openssl}, and the reference
 * implementation's golden vectors.
 */
class ModelCliIT {

    private static final Map<String, String> PASS = Map.of("SITEWARD_CA_PASSPHRASE", "publisher ca passphrase");

    @TempDir
    static Path shared;
    static Path keys;
    static Path chain;
    static Path root;
    static Path otherRoot;

    @TempDir
    Path work;

    @BeforeAll
    static void publisherKeysAndChain() throws IOException {
        Tools.require("openssl", "openssl");
        keys = shared.resolve("keys");
        Result keygen = siteward(shared, Map.of(), "model", "keygen", "--out", keys.toString(), "--name", "ml-team");
        assertEquals(0, keygen.exitCode(), keygen.both());
        PublisherChain pc = PublisherChain.create(shared, keys.resolve("publisher.csr"));
        chain = pc.chain();
        root = pc.root();
        otherRoot = shared.resolve("other-root.pem");
        Result other = openssl(shared, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", shared.resolve("other-root.key").toString(), "-subj", "/CN=other-root",
                "-days", "30", "-out", otherRoot.toString());
        assertEquals(0, other.exitCode(), other.both());
    }

    static Result siteward(Path dir, Map<String, String> env, String... args) {
        return Processes.run(dir, env, Processes.siteward(args));
    }

    static Result openssl(Path dir, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        return Processes.run(dir, Map.of(), cmd);
    }

    /** A two-file model folder named {@code people-counter}. */
    private Path model() throws IOException {
        Path m = work.resolve("people-counter");
        Files.createDirectories(m.resolve("weights"));
        Files.writeString(m.resolve("model.onnx"), "onnx graph bytes");
        Files.write(m.resolve("weights/w0.bin"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        return m;
    }

    private Path publicKeyPem() {
        Path pub = work.resolve("publisher-pub.pem");
        Result r = openssl(work, "pkey", "-in", keys.resolve("publisher-key.pem").toString(), "-pubout",
                "-out", pub.toString());
        assertEquals(0, r.exitCode(), r.both());
        return pub;
    }

    private Result sign(Path model, Path sig, String... extra) {
        List<String> args = new ArrayList<>(List.of("model", "sign", model.toString(),
                "--key", keys.resolve("publisher-key.pem").toString(), "--out", sig.toString()));
        args.addAll(List.of(extra));
        Result r = siteward(work, Map.of(), args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.both());
        return r;
    }

    private Result verify(Path model, Path sig, String... trust) {
        List<String> args = new ArrayList<>(List.of("model", "verify", model.toString(), "--signature",
                sig.toString()));
        args.addAll(List.of(trust));
        return siteward(work, Map.of(), args.toArray(String[]::new));
    }

    private static void assertOneErrorLine(Result r) {
        assertEquals(1, r.stderr().strip().lines().count(), r.stderr());
        assertTrue(r.stderr().startsWith("siteward: "), r.stderr());
        assertFalse(r.stderr().contains("Exception"), r.stderr());
    }

    @Test
    void keygenWritesAnOwnerOnlyPkcs8KeyAVerifiableCsrAndASelfSignedCertificate() throws IOException {
        Path key = keys.resolve("publisher-key.pem");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
        Result csr = openssl(shared, "req", "-in", keys.resolve("publisher.csr").toString(), "-verify", "-noout",
                "-subject");
        assertEquals(0, csr.exitCode(), csr.both());
        assertTrue(csr.both().contains("CN = ml-team") || csr.both().contains("CN=ml-team"), csr.both());
        Result cert = openssl(shared, "x509", "-in", keys.resolve("publisher-cert.pem").toString(), "-noout",
                "-text");
        assertTrue(cert.stdout().contains("Code Signing"), cert.stdout());

        Result again = siteward(shared, Map.of(), "model", "keygen", "--out", keys.toString());
        assertEquals(2, again.exitCode(), "keygen never overwrites a key");
        assertOneErrorLine(again);
    }

    @Test
    void keyModeSignatureVerifiesWithThePublicKeyAndPrintsExactlyOneLine() throws IOException {
        Path m = model();
        Path sig = work.resolve("model.sig");
        sign(m, sig);
        Result r = verify(m, sig, "--public-key", publicKeyPem().toString());
        assertEquals(0, r.exitCode(), r.both());
        assertEquals("verified people-counter: 2 files\n", r.stdout());
        assertEquals("", r.stderr());
    }

    @Test
    void certificateModeSignatureWithAPublisherCaChainVerifiesAgainstItsRoot() throws IOException {
        Path m = model();
        Path sig = m.resolve("model.sig");
        sign(m, sig, "--cert-chain", chain.toString());
        Result r = verify(m, sig, "--certificate-chain", root.toString());
        assertEquals(0, r.exitCode(), r.both());
        assertEquals("verified people-counter: 2 files\n", r.stdout(), "the signature inside the folder is left out");
    }

    @Test
    void oneFlippedByteFailsWithExit1AndNamesTheFile() throws IOException {
        Path m = model();
        Path sig = work.resolve("model.sig");
        sign(m, sig);
        byte[] w = Files.readAllBytes(m.resolve("weights/w0.bin"));
        w[3] ^= 0x01;
        Files.write(m.resolve("weights/w0.bin"), w);
        Result r = verify(m, sig, "--public-key", publicKeyPem().toString());
        assertEquals(1, r.exitCode(), r.both());
        assertEquals("", r.stdout());
        List<String> lines = r.stderr().lines().toList();
        assertTrue(lines.get(0).startsWith("siteward: modelsig.digest_mismatch: "), r.stderr());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("digest_differs weights/w0.bin")), r.stderr());
        assertEquals(2, lines.size(), "one line for the reason, one per differing file: " + r.stderr());
    }

    @Test
    void aChainToAnUntrustedRootFailsWithExit1() throws IOException {
        Path m = model();
        Path sig = work.resolve("model.sig");
        sign(m, sig, "--cert-chain", chain.toString());
        Result r = verify(m, sig, "--certificate-chain", otherRoot.toString());
        assertEquals(1, r.exitCode(), r.both());
        assertTrue(r.stderr().startsWith("siteward: modelsig.untrusted_chain: "), r.stderr());
    }

    @Test
    void anUnreadableSignatureOrKeyExitsWith2AndOneLine() throws IOException {
        Path m = model();
        Result missing = verify(m, work.resolve("no-such.sig"), "--public-key", publicKeyPem().toString());
        assertEquals(2, missing.exitCode(), missing.both());
        assertOneErrorLine(missing);
        assertTrue(missing.stderr().contains("no-such.sig"), missing.stderr());

        Path sig = work.resolve("model.sig");
        Files.writeString(sig, "{}");
        Path notPem = work.resolve("not-a-key.pem");
        Files.writeString(notPem, "hello");
        Result badKey = verify(m, sig, "--public-key", notPem.toString());
        assertEquals(2, badKey.exitCode(), badKey.both());
        assertOneErrorLine(badKey);
        assertTrue(badKey.stderr().contains("--public-key"), badKey.stderr());
    }

    @Test
    void referenceImplementationVectorsVerifyThroughTheCli() {
        Path vectors = vectors();
        Path folder = vectors.resolve("v1.0.0-certificate");
        Result cert = verify(folder, folder.resolve("model.sig"), "--certificate-chain",
                vectors.resolve("keys/ca-cert.pem").toString());
        assertEquals(0, cert.exitCode(), cert.both());
        assertEquals("verified v1.0.0-certificate: 2 files\n", cert.stdout());

        Path single = vectors.resolve("v1.0.0-elliptic-key");
        Result key = verify(single.resolve("signme-1"), single.resolve("model.sig"), "--public-key",
                vectors.resolve("keys/signing-key-pub.pem").toString());
        assertEquals(0, key.exitCode(), key.both());
        assertEquals("verified signme-1: 1 files\n", key.stdout());
    }

    @Test
    void aKeyThatStaysInAPkcs11TokenSignsAModelThatVerifiesWithItsPublicKey() throws IOException {
        Tools.require("softhsm2-util", "softhsm2");
        Path library = Stream.of("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so").map(Path::of).filter(Files::isReadable)
                .findFirst().orElse(null);
        assumeTrue(library != null || Tools.ci(), "libsofthsm2.so not found");
        Path tokens = Files.createDirectories(work.resolve("tokens"));
        Path softhsmConf = Files.writeString(work.resolve("softhsm2.conf"),
                "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n");
        Map<String, String> env = Map.of("SOFTHSM2_CONF", softhsmConf.toString(), "SITEWARD_PKCS11_PIN", "1234");
        Result token = Processes.run(work, env, List.of("softhsm2-util", "--init-token", "--free", "--label",
                "publisher", "--pin", "1234", "--so-pin", "123456"));
        assertEquals(0, token.exitCode(), token.both());
        Path config = Files.writeString(work.resolve("pkcs11.cfg"), "name = publisher\nlibrary = " + library
                + "\nslotListIndex = 0\nattributes(generate, CKO_PRIVATE_KEY, *) = {\n  CKA_TOKEN = true\n"
                + "  CKA_SENSITIVE = true\n  CKA_EXTRACTABLE = false\n}\n"
                + "attributes(generate, CKO_PUBLIC_KEY, *) = {\n  CKA_TOKEN = true\n}\n");
        // a publisher CA in the token puts a non-extractable key there, stored with its certificate under a label
        Path data = work.resolve("token-ca");
        Result init = siteward(work, env, "ca", "init", "--kind", "publisher", "--pkcs11-config", config.toString(),
                "--data-dir", data.toString());
        assertEquals(0, init.exitCode(), init.both());
        Matcher labels = Pattern.compile("\"pkcs11Labels\"\\s*:\\s*\"([^\"]+)\"")
                .matcher(Files.readString(data.resolve("ca/ca.json")));
        assertTrue(labels.find(), "ca.json names the token labels");

        Path m = model();
        Path sig = work.resolve("model.sig");
        Result sign = siteward(work, env, "model", "sign", m.toString(), "--pkcs11-config", config.toString(),
                "--key", labels.group(1) + "issuing", "--out", sig.toString());
        assertEquals(0, sign.exitCode(), sign.both());
        Path pub = work.resolve("token-pub.pem");
        Result pubkey = openssl(work, "x509", "-in", data.resolve("ca/issuing.pem").toString(), "-pubkey", "-noout",
                "-out", pub.toString());
        assertEquals(0, pubkey.exitCode(), pubkey.both());
        Result r = verify(m, sig, "--public-key", pub.toString());
        assertEquals(0, r.exitCode(), r.both());
        assertEquals("verified people-counter: 2 files\n", r.stdout());
    }

    /** {@code <repo>/../shared/interop/oms-v1}; skipped when absent, except under CI. */
    private static Path vectors() {
        String repo = System.getProperty("siteward.repo.dir");
        Path dir = repo == null ? null : Path.of(repo).resolve("../shared/interop/oms-v1").normalize();
        if (dir == null || !Files.isDirectory(dir)) {
            String message = "OpenSSF model-signing vectors not found at " + dir;
            if (Tools.ci()) {
                fail(message);
            }
            assumeTrue(false, message);
        }
        return dir;
    }

    /** A publisher CA made with {@code siteward ca init --kind publisher}, and a publisher certificate from it. */
    record PublisherChain(Path chain, Path root) {

        /** Issues a publisher certificate for {@code csr}; writes chain.pem (leaf, issuing CA) and root.pem. */
        static PublisherChain create(Path dir, Path csr) throws IOException {
            Path data = dir.resolve("publisher-ca");
            Result init = siteward(dir, PASS, "ca", "init", "--kind", "publisher", "--data-dir", data.toString());
            assertEquals(0, init.exitCode(), init.both());
            Path chain = dir.resolve("chain.pem");
            Result issue = siteward(dir, PASS, "ca", "issue", "--csr", csr.toString(), "--profile", "publisher",
                    "--name", "ml-team", "--out", chain.toString(), "--data-dir", data.toString());
            assertEquals(0, issue.exitCode(), issue.both());
            Result show = siteward(dir, Map.of(), "ca", "show", "--pem", "--data-dir", data.toString());
            assertEquals(0, show.exitCode(), show.both());
            String pem = show.stdout();
            Path root = dir.resolve("root.pem");
            Files.writeString(root, pem.substring(pem.indexOf("-----BEGIN CERTIFICATE-----", 1)));
            return new PublisherChain(chain, root);
        }
    }
}
