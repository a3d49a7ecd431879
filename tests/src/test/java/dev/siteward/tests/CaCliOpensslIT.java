package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code siteward ca} commands as a user runs them, checked with the real {@code openssl} tool. */
class CaCliOpensslIT {

    private static final Map<String, String> PASS = Map.of("SITEWARD_CA_PASSPHRASE", "correct horse battery");

    @TempDir
    Path work;
    Path data;

    @BeforeAll
    static void tools() {
        Tools.require("openssl", "openssl");
    }

    @BeforeEach
    void init() {
        data = work.resolve("data");
        Result r = siteward(PASS, "ca", "init", "--data-dir", data.toString());
        assertEquals(0, r.exitCode(), r.both());
    }

    private Result siteward(Map<String, String> env, String... args) {
        return Processes.run(work, env, Processes.siteward(args));
    }

    private Result openssl(String... args) {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        return Processes.run(work, Map.of(), cmd);
    }

    private Path opensslCsr(String name) {
        Path csr = work.resolve(name + ".csr");
        Result r = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", work.resolve(name + ".key").toString(), "-subj", "/CN=claimed-by-csr",
                "-out", csr.toString());
        assertEquals(0, r.exitCode(), r.both());
        return csr;
    }

    /** Splits {@code ca show --pem} into issuing.pem and root.pem. */
    private void writeCaFiles() throws IOException {
        Result r = siteward(Map.of(), "ca", "show", "--pem", "--data-dir", data.toString());
        assertEquals(0, r.exitCode(), r.both());
        String pem = r.stdout();
        int second = pem.indexOf("-----BEGIN CERTIFICATE-----", 1);
        Files.writeString(work.resolve("issuing.pem"), pem.substring(0, second));
        Files.writeString(work.resolve("root.pem"), pem.substring(second));
    }

    @Test
    void opensslCsrIsIssuedAndTheChainPassesOpensslVerify() throws Exception {
        Path csr = opensslCsr("dev");
        Result issue = siteward(PASS, "ca", "issue", "--csr", csr.toString(), "--device-id", "pump-7",
                "--data-dir", data.toString());
        assertEquals(0, issue.exitCode(), issue.both());
        Files.writeString(work.resolve("chain.pem"), issue.stdout());
        writeCaFiles();
        Result verify = openssl("verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "chain.pem");
        assertEquals(0, verify.exitCode(), verify.both());
        assertTrue(verify.stdout().contains("chain.pem: OK"), verify.stdout());

        Result text = openssl("x509", "-in", "chain.pem", "-noout", "-text");
        assertTrue(text.stdout().contains("URI:spiffe://site.local/device/pump-7"), text.stdout());
        assertTrue(text.stdout().contains("TLS Web Client Authentication"), text.stdout());
        assertTrue(text.stdout().contains("Subject: CN = pump-7"), "subject comes from the CA, not the CSR");
        assertFalse(text.stdout().contains("claimed-by-csr"));
        assertTrue(text.stdout().contains("X509v3 CRL Distribution Points"), text.stdout());
    }

    @Test
    void revokedCertificateFailsOpensslCrlCheckAndTheCrlParses() throws Exception {
        Path csr = opensslCsr("dev");
        Result issue = siteward(PASS, "ca", "issue", "--csr", csr.toString(), "--device-id", "valve-1",
                "--out", work.resolve("chain.pem").toString(), "--data-dir", data.toString());
        assertEquals(0, issue.exitCode(), issue.both());
        writeCaFiles();
        Files.writeString(work.resolve("bundle.pem"), Files.readString(work.resolve("issuing.pem"))
                + Files.readString(work.resolve("root.pem")));

        Result revoke = siteward(PASS, "ca", "revoke", "--device-id", "valve-1", "--reason", "keyCompromise",
                "--data-dir", data.toString());
        assertEquals(0, revoke.exitCode(), revoke.both());
        Result crl = siteward(PASS, "ca", "crl", "--out", work.resolve("crl.pem").toString(),
                "--data-dir", data.toString());
        assertEquals(0, crl.exitCode(), crl.both());

        Result parsed = openssl("crl", "-in", "crl.pem", "-noout", "-text");
        assertEquals(0, parsed.exitCode(), parsed.both());
        String serial = openssl("x509", "-in", "chain.pem", "-noout", "-serial").stdout().trim()
                .substring("serial=".length());
        assertTrue(parsed.stdout().contains("Serial Number: " + serial), parsed.stdout());
        assertTrue(parsed.stdout().contains("Key Compromise"), parsed.stdout());
        assertTrue(parsed.stdout().contains("X509v3 CRL Number"), parsed.stdout());

        Result verify = openssl("verify", "-crl_check", "-CAfile", "bundle.pem", "-CRLfile", "crl.pem",
                "chain.pem");
        assertTrue(verify.exitCode() != 0, verify.both());
        assertTrue(verify.both().contains("certificate revoked"), verify.both());
    }

    @Test
    void showPrintsTheRootFingerprintThatDevicesPin() throws Exception {
        writeCaFiles();
        Result der = openssl("x509", "-in", "root.pem", "-outform", "DER", "-out", "root.der");
        assertEquals(0, der.exitCode(), der.both());
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(work.resolve("root.der"))));
        Result show = siteward(Map.of(), "ca", "show", "--data-dir", data.toString());
        assertEquals(0, show.exitCode(), show.both());
        assertTrue(show.stdout().lines().anyMatch(l -> l.equals("root sha256:" + expected)), show.stdout());
        Result json = siteward(Map.of(), "ca", "show", "--json", "--data-dir", data.toString());
        assertTrue(json.stdout().contains("\"rootFingerprint\" : \"sha256:" + expected + "\""), json.stdout());
    }

    @Test
    void serverProfileCarriesDnsAndIpNamesAndServerAuth() throws Exception {
        Path csr = opensslCsr("srv");
        Result issue = siteward(PASS, "ca", "issue", "--csr", csr.toString(), "--profile", "server", "--name",
                "gw.plant.example", "--ip", "127.0.0.1", "--dns", "localhost", "--out",
                work.resolve("srv.pem").toString(), "--data-dir", data.toString());
        assertEquals(0, issue.exitCode(), issue.both());
        String text = openssl("x509", "-in", "srv.pem", "-noout", "-text").stdout();
        assertTrue(text.contains("DNS:gw.plant.example"), text);
        assertTrue(text.contains("DNS:localhost"), text);
        assertTrue(text.contains("IP Address:127.0.0.1"), text);
        assertTrue(text.contains("TLS Web Server Authentication"), text);
    }

    @Test
    void badInputExitsTwoWithOneLineAndChangesNothing() throws Exception {
        Path registry = data.resolve("ca/registry.log");
        byte[] before = Files.readAllBytes(registry);
        Files.writeString(work.resolve("garbled.csr"), "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                + "-----END CERTIFICATE REQUEST-----\n");
        byte[] huge = new byte[300_000];
        Files.write(work.resolve("huge.csr"), huge);
        Path good = opensslCsr("ok");
        List<List<String>> cases = List.of(
                List.of("ca", "issue", "--csr", "garbled.csr", "--device-id", "d1"),
                List.of("ca", "issue", "--csr", "huge.csr", "--device-id", "d1"),
                List.of("ca", "issue", "--csr", good.toString(), "--device-id", "Bad_Id"),
                List.of("ca", "issue", "--csr", good.toString(), "--device-id", "d1", "--ttl", "forever"),
                List.of("ca", "issue", "--csr", good.toString(), "--device-id", "d1", "--no-such-option"),
                List.of("ca", "revoke", "--serial", "zz"),
                List.of("ca", "revoke", "--device-id", "never-enrolled"),
                List.of("ca", "init", "--key-type", "rsa1024"));
        for (List<String> c : cases) {
            String[] args = new java.util.ArrayList<>(c) {{
                    add("--data-dir");
                    add(data.toString());
                }}.toArray(new String[0]);
            Result r = siteward(PASS, args);
            assertEquals(2, r.exitCode(), c + ": " + r.both());
            assertEquals(1, r.stderr().lines().count(), c + " must print one line: " + r.stderr());
            assertFalse(r.stderr().contains("Exception"), c + ": " + r.stderr());
            assertTrue(r.stderr().startsWith("siteward: "), r.stderr());
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(before, Files.readAllBytes(registry), "bad input recorded nothing");
    }

    @Test
    void missingPassphraseIsBadInput() {
        Path csr = opensslCsr("dev");
        Result r = siteward(Map.of(), "ca", "issue", "--csr", csr.toString(), "--device-id", "d2",
                "--data-dir", data.toString());
        assertEquals(2, r.exitCode(), r.both());
        assertTrue(r.stderr().contains("passphrase"), r.stderr());
        Result wrong = siteward(Map.of("SITEWARD_CA_PASSPHRASE", "wrong"), "ca", "issue", "--csr", csr.toString(),
                "--device-id", "d2", "--data-dir", data.toString());
        assertEquals(2, wrong.exitCode(), wrong.both());
        assertTrue(wrong.stderr().contains("wrong CA passphrase"), wrong.stderr());
    }

    @Test
    void rootKeyOutExportsAnEncryptedKeyThatOpensslReadsAndLeavesNoRootKeyBehind() throws Exception {
        Path other = work.resolve("offline");
        Path keyOut = work.resolve("root-key-offline.pem");
        Result r = siteward(PASS, "ca", "init", "--root-key-out", keyOut.toString(), "--key-type", "p384",
                "--data-dir", other.toString());
        assertEquals(0, r.exitCode(), r.both());
        assertFalse(Files.exists(other.resolve("ca/root-key.pem")));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyOut)));
        assertTrue(Files.readString(keyOut).contains("BEGIN ENCRYPTED PRIVATE KEY"));
        Result pkey = openssl("pkey", "-in", keyOut.toString(), "-passin", "pass:correct horse battery", "-noout",
                "-text_pub");
        assertEquals(0, pkey.exitCode(), pkey.both());
        assertTrue(pkey.stdout().contains("P-384") || pkey.stdout().contains("secp384r1"), pkey.stdout());
        Result show = siteward(Map.of(), "ca", "show", "--data-dir", other.toString());
        assertTrue(show.stdout().contains("not present (kept offline)"), show.stdout());
        Path csr = opensslCsr("after");
        Result issue = siteward(PASS, "ca", "issue", "--csr", csr.toString(), "--device-id", "d3",
                "--data-dir", other.toString());
        assertEquals(0, issue.exitCode(), "the issuing key still works: " + issue.both());

        Result rootCrl = siteward(PASS, "ca", "crl", "--root", "--root-key", keyOut.toString(), "--out",
                work.resolve("root-crl.pem").toString(), "--data-dir", other.toString());
        assertEquals(0, rootCrl.exitCode(), "the offline root key re-signs the root CRL: " + rootCrl.both());
        Files.writeString(work.resolve("offline-root.pem"), siteward(Map.of(), "ca", "show", "--pem", "--data-dir",
                other.toString()).stdout().replaceFirst("(?s)^.*?-----END CERTIFICATE-----\\n", ""));
        Result verified = openssl("crl", "-in", "root-crl.pem", "-CAfile", "offline-root.pem", "-noout",
                "-crlnumber");
        assertEquals(0, verified.exitCode(), verified.both());
        assertTrue(verified.both().contains("verify OK") && verified.stdout().contains("crlNumber=0x02"),
                verified.both());
    }

    @Test
    void firstInitWithoutOptionsGeneratesAPrivatePassphraseAndWarns() throws Exception {
        Path fresh = work.resolve("fresh");
        Result r = siteward(Map.of(), "ca", "init", "--data-dir", fresh.toString());
        assertEquals(0, r.exitCode(), r.both());
        assertTrue(r.stderr().contains("warning"), r.stderr());
        Path pass = fresh.resolve("ca/passphrase");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pass)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                fresh.resolve("ca/issuing-key.pem"))));
        Matcher m = Pattern.compile("root sha256:([0-9a-f]{64})").matcher(r.stdout());
        assertTrue(m.find(), r.stdout());
        Path csr = opensslCsr("gen");
        Result issue = siteward(Map.of(), "ca", "issue", "--csr", csr.toString(), "--device-id", "d4",
                "--data-dir", fresh.toString());
        assertEquals(0, issue.exitCode(), issue.both());
    }

    @Test
    void publisherCaIssuesPublishersAndRefusesDevices() throws Exception {
        Path pub = work.resolve("publisher");
        Result r = siteward(PASS, "ca", "init", "--kind", "publisher", "--data-dir", pub.toString());
        assertEquals(0, r.exitCode(), r.both());
        Path csr = opensslCsr("pub");
        Result device = siteward(PASS, "ca", "issue", "--csr", csr.toString(), "--device-id", "d5",
                "--data-dir", pub.toString());
        assertEquals(2, device.exitCode(), device.both());
        Result publisher = siteward(PASS, "ca", "issue", "--csr", csr.toString(), "--profile", "publisher",
                "--name", "vision-team", "--out", work.resolve("pub.pem").toString(), "--data-dir", pub.toString());
        assertEquals(0, publisher.exitCode(), publisher.both());
        String text = openssl("x509", "-in", "pub.pem", "-noout", "-text").stdout();
        assertTrue(text.contains("URI:spiffe://site.local/publisher/vision-team"), text);
        assertTrue(text.contains("Code Signing"), text);
        Result siteRefuses = siteward(PASS, "ca", "issue", "--csr", csr.toString(), "--profile", "publisher",
                "--name", "vision-team", "--data-dir", data.toString());
        assertEquals(2, siteRefuses.exitCode(), "the site CA cannot mint publishers: " + siteRefuses.both());
    }
}
