package dev.siteward.pki.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.testkit.ChildJvm;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the CA issues, as the real {@code openssl} sees it: CSRs it makes are accepted, chains and CRLs verify. */
class OpensslInteropTest {

    @TempDir
    static Path tmp;
    static TestPki pki;
    static Path rootPem;
    static Path issuingPem;

    @BeforeAll
    static void createCa() throws Exception {
        boolean present = ChildJvm.exec(List.of("sh", "-c", "command -v openssl"), Map.of(), Duration.ofSeconds(10))
                .exitCode() == 0;
        if (!present) {
            if ("true".equals(System.getenv("CI"))) {
                fail("openssl is not installed (CI=true: a failure, not a skip)");
            }
            Assumptions.assumeTrue(false, "openssl is not installed: skipping the openssl interop test");
        }
        pki = TestPki.create(tmp.resolve("ca"), MutableClock.atSystemTime()); // openssl checks the system time
        rootPem = Files.writeString(tmp.resolve("root.pem"), PemCodec.certificates(List.of(pki.root())));
        issuingPem = Files.writeString(tmp.resolve("issuing.pem"),
                PemCodec.certificates(List.of(pki.ca().issuingCertificate())));
    }

    @AfterAll
    static void closeCa() {
        if (pki != null) {
            pki.close();
        }
    }

    private static ChildJvm.Result openssl(String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        return ChildJvm.exec(command, Map.of(), Duration.ofSeconds(30));
    }

    private static byte[] opensslCsr(String name, String... keyArgs) throws Exception {
        Path csr = tmp.resolve(name + ".csr");
        List<String> args = new ArrayList<>(List.of("req", "-new"));
        args.addAll(List.of(keyArgs));
        args.addAll(List.of("-nodes", "-keyout", tmp.resolve(name + ".key").toString(), "-subj", "/CN=" + name,
                "-out", csr.toString()));
        ChildJvm.Result r = openssl(args.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.toString());
        return PemCodec.decodeAll(Files.readString(csr), "CERTIFICATE REQUEST").get(0);
    }

    private static Path write(String name, IssuedCertificate issued) throws Exception {
        return Files.writeString(tmp.resolve(name), PemCodec.certificates(List.of(issued.certificate())));
    }

    @Test
    void p256CsrFromOpensslIsAcceptedAndTheChainVerifies() throws Exception {
        byte[] csr = opensslCsr("ossl-cam", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
        Path leaf = write("ossl-cam.pem", pki.ca().issue(IssueRequest.device(csr, "ossl-cam")));

        ChildJvm.Result verify = openssl("verify", "-CAfile", rootPem.toString(), "-untrusted",
                issuingPem.toString(), leaf.toString());
        assertEquals(0, verify.exitCode(), verify.toString());
        assertEquals(leaf + ": OK", verify.stdout().strip());

        ChildJvm.Result text = openssl("x509", "-in", leaf.toString(), "-noout", "-text");
        assertTrue(text.stdout().contains("URI:spiffe://site.local/device/ossl-cam"), text.stdout());
        assertTrue(text.stdout().contains("TLS Web Client Authentication"), text.stdout());
        assertTrue(text.stdout().contains("CA:FALSE"), text.stdout());
        assertTrue(text.stdout().contains("Digital Signature"), text.stdout());
    }

    @Test
    void ed25519AndRsaCsrsFromOpensslAreAccepted() throws Exception {
        for (String[] key : List.of(new String[] {"-newkey", "ed25519"}, new String[] {"-newkey", "rsa:2048"})) {
            String name = "ossl-" + key[1].replace(":", "");
            Path leaf = write(name + ".pem", pki.ca().issue(IssueRequest.device(opensslCsr(name, key), name)));
            ChildJvm.Result verify = openssl("verify", "-CAfile", rootPem.toString(), "-untrusted",
                    issuingPem.toString(), leaf.toString());
            assertEquals(0, verify.exitCode(), verify.toString());
        }
    }

    @Test
    void revokedCertificateFailsOpensslCrlCheckAndTheCrlParses() throws Exception {
        byte[] csr = opensslCsr("ossl-revoked", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
        IssuedCertificate issued = pki.ca().issue(IssueRequest.device(csr, "ossl-revoked"));
        Path leaf = write("ossl-revoked.pem", issued);
        Path crls = tmp.resolve("crls.pem");
        Files.writeString(crls, PemCodec.crl(pki.ca().crl()) + PemCodec.crl(pki.ca().rootCrl()));
        ChildJvm.Result before = openssl("verify", "-crl_check_all", "-CAfile", rootPem.toString(), "-untrusted",
                issuingPem.toString(), "-CRLfile", crls.toString(), leaf.toString());
        assertEquals(0, before.exitCode(), "our CRLs satisfy openssl's full CRL check: " + before);

        pki.ca().revoke(issued.certificate().getSerialNumber(), RevocationReason.KEY_COMPROMISE);
        Path crl = Files.writeString(tmp.resolve("crl.pem"), PemCodec.crl(pki.ca().crl()));

        ChildJvm.Result after = openssl("verify", "-crl_check", "-CAfile", rootPem.toString(), "-untrusted",
                issuingPem.toString(), "-CRLfile", crl.toString(), leaf.toString());
        assertNotEquals(0, after.exitCode());
        assertTrue((after.stdout() + after.stderr()).contains("certificate revoked"), after.toString());

        ChildJvm.Result parsed = openssl("crl", "-in", crl.toString(), "-noout", "-text");
        assertEquals(0, parsed.exitCode(), parsed.toString());
        assertTrue(parsed.stdout().contains(issued.serialHex().toUpperCase(Locale.ROOT)), parsed.stdout());
        assertTrue(parsed.stdout().contains("Key Compromise"), parsed.stdout());
        assertTrue(parsed.stdout().contains("X509v3 CRL Number"), parsed.stdout());
    }
}
