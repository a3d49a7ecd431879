package dev.siteward.pki.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.siteward.pki.PemCodec;
import dev.siteward.pki.testkit.ChildJvm;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A root rollover as the real {@code openssl verify} sees it: the old pin through the cross certificate. */
class RootRolloverOpensslTest {

    @TempDir
    static Path tmp;

    @BeforeAll
    static void requireOpenssl() {
        boolean present = ChildJvm.exec(List.of("sh", "-c", "command -v openssl"), Map.of(), Duration.ofSeconds(10))
                .exitCode() == 0;
        if (!present) {
            if ("true".equals(System.getenv("CI"))) {
                fail("openssl is not installed (CI=true: a failure, not a skip)");
            }
            Assumptions.assumeTrue(false, "openssl is not installed: skipping the openssl rollover test");
        }
    }

    private static ChildJvm.Result openssl(String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        return ChildJvm.exec(command, Map.of(), Duration.ofSeconds(30));
    }

    private static String pem(String name, X509Certificate... certs) throws Exception {
        return Files.writeString(tmp.resolve(name), PemCodec.certificates(List.of(certs))).toString();
    }

    private static String crls(String name, List<X509CRL> crls) throws Exception {
        StringBuilder b = new StringBuilder();
        for (X509CRL c : crls) {
            b.append(PemCodec.crl(c));
        }
        return Files.writeString(tmp.resolve(name), b.toString()).toString();
    }

    @Test
    void leavesFromBothSidesOfTheRolloverVerifyWithTheOldRootAndTheNewLeafWithTheNewRoot() throws Exception {
        // openssl checks against the system time, so the CA uses it too
        try (TestPki pki = TestPki.create(tmp.resolve("ca"), MutableClock.atSystemTime())) {
            SiteCa ca = pki.ca();
            String oldRoot = pem("old-root.pem", ca.root());
            String oldIssuing = pem("old-issuing.pem", ca.issuingCertificate());
            TestIdentity before = pki.issueDevice("pump-before");
            String beforeLeaf = pem("before.pem", before.certificate());

            ca.rotateRoot(null, null);
            SiteCa.RootState state = ca.rootGenerations().get(0);
            String newRoot = pem("new-root.pem", ca.root());
            String cross = pem("cross.pem", state.crossCertificate());
            String link = pem("link.pem", state.linkCertificate());
            String issuing = pem("issuing.pem", ca.issuingCertificate());
            TestIdentity after = pki.issueDevice("pump-after");
            String afterLeaf = pem("after.pem", after.certificate());

            ChildJvm.Result oldPin = openssl("verify", "-CAfile", oldRoot, "-untrusted", cross, "-untrusted", issuing,
                    afterLeaf);
            assertEquals(0, oldPin.exitCode(), "a new leaf verifies to the old root by the cross certificate: "
                    + oldPin);
            ChildJvm.Result newPin = openssl("verify", "-CAfile", newRoot, "-untrusted", issuing, afterLeaf);
            assertEquals(0, newPin.exitCode(), "a new leaf verifies to the new root: " + newPin);
            ChildJvm.Result oldLeaf = openssl("verify", "-CAfile", oldRoot, "-untrusted", oldIssuing, beforeLeaf);
            assertEquals(0, oldLeaf.exitCode(), "a leaf from before the rollover still verifies: " + oldLeaf);
            ChildJvm.Result oldLeafNewRoot = openssl("verify", "-CAfile", newRoot, "-untrusted", link,
                    "-untrusted", oldIssuing, beforeLeaf);
            assertEquals(0, oldLeafNewRoot.exitCode(), "the link certificate takes an old leaf to the new root: "
                    + oldLeafNewRoot);

            ChildJvm.Result withoutCross = openssl("verify", "-CAfile", oldRoot, "-untrusted", issuing, afterLeaf);
            assertNotEquals(0, withoutCross.exitCode(), "without the cross certificate the old pin cannot reach it");

            // full CRL checking: each root generation's CRL is told apart by its key, though the names are equal
            List<X509CRL> all = new ArrayList<>(ca.rootCrls());
            all.add(ca.crl());
            String crlFile = crls("crls.pem", all);
            ChildJvm.Result checked = openssl("verify", "-crl_check_all", "-CRLfile", crlFile, "-CAfile", oldRoot,
                    "-untrusted", cross, "-untrusted", issuing, afterLeaf);
            assertEquals(0, checked.exitCode(), "the old pin's path passes openssl's full CRL check: " + checked);
        }
    }
}
