package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Security;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A key generated inside a PKCS#11 token (SoftHSM2 through SunPKCS11) signs a model without leaving the token.
 *
 * <p>SoftHSM2 reads its configuration from {@code SOFTHSM2_CONF} in the process environment, which a running JVM
 * cannot set, so the signing runs in a child JVM pointed at a private token directory. Skipped where SoftHSM2 is not
 * installed.
 */
class Pkcs11SigningTest {

    private static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    private static final Path UTIL = Path.of("/usr/bin/softhsm2-util");

    @TempDir
    Path tmp;

    @Test
    void aModelIsSignedWithANonExtractableTokenKeyAndVerifies() throws Exception {
        assumeTrue(Files.isReadable(LIBRARY) && Files.isExecutable(UTIL), "SoftHSM2 is not installed");
        Path tokens = Files.createDirectories(tmp.resolve("tokens"));
        Path conf = Files.writeString(tmp.resolve("softhsm2.conf"),
                "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n");
        Path model = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(model.resolve("model.onnx"), "weights");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                TokenSigner.class.getName(), model.toString(), tmp.resolve("model.sig").toString(),
                tmp.resolve("public.pem").toString())
                .redirectErrorStream(true);
        pb.environment().put("SOFTHSM2_CONF", conf.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("private key encoding: none"), out);

        var publicKey = KeyMaterial.readPublicKey(Files.readString(tmp.resolve("public.pem")));
        VerificationResult r = ModelVerifier.trustingKey(publicKey).verify(model, tmp.resolve("model.sig"));
        assertTrue(r.verified(), r::toString);
        assertEquals(1, r.fileCount());
    }

    /** Runs in the child JVM: makes a token, generates a P-256 key in it, signs the model with the token's provider. */
    static final class TokenSigner {

        public static void main(String[] args) throws Exception {
            String slot = initToken();
            String config = "--name = modelsig\nlibrary = " + LIBRARY + "\nslot = " + slot + "\n"
                    + "attributes(generate, CKO_PRIVATE_KEY, *) = {\n  CKA_SENSITIVE = true\n"
                    + "  CKA_EXTRACTABLE = false\n}\n";
            Provider p11 = Security.getProvider("SunPKCS11").configure(config);
            java.security.KeyStore.getInstance("PKCS11", p11).load(null, "1234".toCharArray());
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p11);
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = g.generateKeyPair();
            System.out.println("private key encoding: " + (keys.getPrivate().getEncoded() == null ? "none" : "present"));
            assertNull(keys.getPrivate().getEncoded());
            ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic()).withProvider(p11)
                    .sign(ModelLocation.of(Path.of(args[0]))).writeTo(Path.of(args[1]));
            Files.writeString(Path.of(args[2]), KeyMaterial.toPem(keys.getPublic()));
        }

        private static String initToken() throws IOException, InterruptedException {
            Process p = new ProcessBuilder(List.of(UTIL.toString(), "--init-token", "--free", "--label", "modelsig",
                    "--pin", "1234", "--so-pin", "123456")).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("softhsm2-util failed: " + out);
            }
            Matcher m = Pattern.compile("slot (\\d+)").matcher(out);
            if (!m.find()) {
                throw new IOException("no slot in: " + out);
            }
            return m.group(1);
        }
    }
}
