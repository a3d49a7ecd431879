package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's enrollment and device listeners driven by curl and openssl alone (no Java client), as a device maker
 * without the SDK would: EST enrollment with a one-time token, whoami over mTLS, revocation that takes effect on
 * open connections and resumed TLS sessions at once, and bad input refused with a clear reason.
 */
class GatewayEnrollmentIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "gateway test passphrase");

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static Path root;

    @BeforeAll
    static void startGateway() throws Exception {
        Tools.require("openssl", "openssl");
        Tools.require("curl", "curl");
        gateway = GatewayProcess.start(work.resolve("data"), ENV);
        root = gateway.dataDir().resolve("admin/root.pem");
    }

    @AfterAll
    static void stopGateway() throws Exception {
        if (gateway != null) {
            int code = gateway.stop();
            assertTrue(code == 0 || code == 143, "gateway exits cleanly on SIGTERM, not " + code);
        }
    }

    private static Result run(String... cmd) {
        return Processes.run(work, Map.of(), List.of(cmd));
    }

    private static String token(String deviceId, String... extra) {
        List<String> args = new ArrayList<>(List.of("token", "create", "--device-id", deviceId));
        args.addAll(List.of(extra));
        Result r = gateway.cli(args.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.both());
        assertEquals(1, r.stdout().lines().count(), "prints only the token");
        return r.stdout().trim();
    }

    /** An openssl-made key and base64 DER CSR for the device. */
    private static Path csr(String name, String cn) {
        Path key = work.resolve(name + ".key");
        Path der = work.resolve(name + ".der");
        Result r = run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key.toString(), "-subj", "/CN=" + cn, "-outform", "DER", "-out", der.toString());
        assertEquals(0, r.exitCode(), r.both());
        Path b64 = work.resolve(name + ".b64");
        try {
            Files.writeString(b64, Base64.getEncoder().encodeToString(Files.readAllBytes(der)));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return b64;
    }

    /** curl POST to an EST endpoint; returns [status, body file]. */
    private static Result est(String endpoint, Path body, String contentType, String bearer, String name,
                              String... clientCert) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-o", work.resolve(name + ".out").toString(),
                "-w", "%{http_code}", "--cacert", root.toString(), "-H", "Content-Type: " + contentType,
                "--data-binary", "@" + body));
        if (bearer != null) {
            cmd.addAll(List.of("-H", "Authorization: Bearer " + bearer));
        }
        cmd.addAll(List.of(clientCert));
        cmd.add(gateway.enrollUrl() + "/.well-known/est/" + endpoint);
        return Processes.run(work, Map.of(), cmd);
    }

    private static String body(String name) throws Exception {
        return Files.readString(work.resolve(name + ".out"));
    }

    /** Enrolls with curl and decodes the PKCS#7 with openssl into name.pem (leaf first). */
    private static Path enroll(String name, String deviceId) throws Exception {
        Path csr = csr(name, deviceId);
        Result r = est("simpleenroll", csr, "application/pkcs10", token(deviceId), name);
        assertEquals("200", r.stdout(), r.both() + body(name));
        return decode(name);
    }

    private static Path decode(String name) throws Exception {
        Path der = work.resolve(name + ".p7");
        Files.write(der, Base64.getMimeDecoder().decode(Files.readString(work.resolve(name + ".out"))));
        Path pem = work.resolve(name + ".pem");
        Result r = run("openssl", "pkcs7", "-inform", "DER", "-in", der.toString(), "-print_certs", "-out",
                pem.toString());
        assertEquals(0, r.exitCode(), r.both());
        return pem;
    }

    private static Result whoami(String name) {
        return run("curl", "-sS", "--cacert", root.toString(), "--cert", work.resolve(name + ".pem").toString(),
                "--key", work.resolve(name + ".key").toString(), gateway.deviceUrl() + "/v1/whoami");
    }

    @Test
    void curlAndOpensslAloneEnrollAndCallWhoami() throws Exception {
        String tok = token("valve-1", "--labels", "class=valve,zone=line-3");
        Path csr = csr("v1", "valve-1");
        Result r = est("simpleenroll", csr, "application/pkcs10", tok, "v1");
        assertEquals("200", r.stdout(), r.both() + body("v1"));
        Path pem = decode("v1");
        String subject = run("openssl", "x509", "-in", pem.toString(), "-noout", "-subject", "-ext",
                "subjectAltName").stdout();
        assertTrue(subject.contains("CN = valve-1"), "leaf comes first: " + subject);
        assertTrue(subject.contains("URI:spiffe://site.local/device/valve-1"), subject);
        Result who = whoami("v1");
        assertEquals(0, who.exitCode(), who.both());
        assertTrue(who.stdout().contains("\"id\":\"valve-1\""), who.stdout());
        assertTrue(who.stdout().contains("\"zone\":\"line-3\""), who.stdout());
        assertTrue(who.stdout().contains("certificateExpires"), who.stdout());

        Result cacerts = run("curl", "-sS", "--cacert", root.toString(), gateway.enrollUrl()
                + "/.well-known/est/cacerts");
        Files.write(work.resolve("ca.p7"), Base64.getMimeDecoder().decode(cacerts.stdout()));
        Result certs = run("openssl", "pkcs7", "-inform", "DER", "-in", work.resolve("ca.p7").toString(),
                "-print_certs", "-noout");
        assertTrue(certs.stdout().contains("Siteward Issuing CA") && certs.stdout().contains("Siteward Root CA"),
                certs.both());
        Result info = run("curl", "-sS", "--cacert", root.toString(), gateway.enrollUrl() + "/.well-known/siteward");
        assertTrue(info.stdout().contains("\"rootFingerprint\":\"sha256:"), info.stdout());
        assertTrue(info.stdout().contains("\"deviceUrl\":\"https://"), info.stdout());
    }

    @Test
    void tokenIsSingleUseButARetryWithTheSameKeyGetsTheSameCertificate() throws Exception {
        String tok = token("pump-2");
        Path csr = csr("p2", "pump-2");
        assertEquals("200", est("simpleenroll", csr, "application/pkcs10", tok, "p2a").stdout());
        assertEquals("200", est("simpleenroll", csr, "application/pkcs10", tok, "p2b").stdout(), body("p2b"));
        String first = run("openssl", "x509", "-in", decode("p2a").toString(), "-noout", "-serial").stdout();
        String again = run("openssl", "x509", "-in", decode("p2b").toString(), "-noout", "-serial").stdout();
        assertEquals(first, again, "a lost response is recovered, not re-issued");
        Path other = csr("p2c", "pump-2");
        Result second = est("simpleenroll", other, "application/pkcs10", tok, "p2c");
        assertEquals("403", second.stdout(), body("p2c"));
        assertTrue(body("p2c").contains("enrollment.token_used"), body("p2c"));
    }

    @Test
    void badInputGetsAReasonAndConsumesNothing() throws Exception {
        String tok = token("fan-3");
        Path good = csr("f3", "fan-3");
        // wrong content type
        assertEquals("415", est("simpleenroll", good, "text/plain", tok, "f3a").stdout());
        assertTrue(body("f3a").contains("request.content_type"), body("f3a"));
        // garbage body
        Path garbage = work.resolve("garbage.b64");
        Files.writeString(garbage, "this is not base64 at all!!!");
        assertEquals("400", est("simpleenroll", garbage, "application/pkcs10", tok, "f3b").stdout());
        assertTrue(body("f3b").contains("enrollment.csr_invalid"), body("f3b"));
        // CSR over 64 KiB
        Path huge = work.resolve("huge.b64");
        Files.writeString(huge, Base64.getEncoder().encodeToString(new byte[70_000]));
        assertEquals("413", est("simpleenroll", huge, "application/pkcs10", tok, "f3c").stdout(), body("f3c"));
        // CSR with a broken signature
        byte[] der = Base64.getDecoder().decode(Files.readString(good));
        der[der.length - 3] ^= 0x01;
        Path broken = work.resolve("broken.b64");
        Files.writeString(broken, Base64.getEncoder().encodeToString(der));
        assertEquals("400", est("simpleenroll", broken, "application/pkcs10", tok, "f3d").stdout(), body("f3d"));
        assertTrue(body("f3d").contains("csr"), body("f3d"));
        // forged token: same claims, signature changed
        String forged = tok.substring(0, tok.length() - 4) + (tok.endsWith("AAAA") ? "BBBB" : "AAAA");
        assertEquals("401", est("simpleenroll", good, "application/pkcs10", forged, "f3e").stdout(), body("f3e"));
        assertTrue(body("f3e").contains("enrollment.token_invalid"), body("f3e"));
        // a CSR made for another device
        Path otherDevice = csr("f3f", "fan-99");
        assertEquals("403", est("simpleenroll", otherDevice, "application/pkcs10", tok, "f3f").stdout(),
                body("f3f"));
        assertTrue(body("f3f").contains("enrollment.wrong_device"), body("f3f"));
        // no token at all
        assertEquals("401", est("simpleenroll", good, "application/pkcs10", null, "f3g").stdout(), body("f3g"));
        // none of this consumed the token
        assertEquals("200", est("simpleenroll", good, "application/pkcs10", tok, "f3h").stdout(), body("f3h"));
    }

    @Test
    void revocationClosesTheOpenKeepAliveConnectionWithinOneSecondAndRefusesTheNextRequest() throws Exception {
        Path pem = enroll("c4", "cam-4");
        assertEquals(0, whoami("c4").exitCode());
        SSLSocket socket = (SSLSocket) Tls.context(pem, work.resolve("c4.key"), root).getSocketFactory()
                .createSocket("localhost", gateway.devicePort());
        socket.startHandshake();
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        out.write("GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] buf = new byte[4096];
        int n = in.read(buf);
        assertTrue(n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"),
                "keep-alive connection answers before the revocation");
        AtomicLong closedAt = new AtomicLong();
        Thread reader = new Thread(() -> {
            try {
                while (in.read(buf) >= 0) {
                    // drain until the server closes
                }
            } catch (java.io.IOException e) {
                // a reset counts as closed
            }
            closedAt.set(System.nanoTime());
        });
        reader.start();
        Result revoke = gateway.cli("device", "revoke", "cam-4", "--reason", "keyCompromise");
        long revokedAt = System.nanoTime();
        assertEquals(0, revoke.exitCode(), revoke.both());
        reader.join(5000);
        assertTrue(closedAt.get() != 0, "the open connection was closed");
        assertTrue(closedAt.get() - revokedAt < 1_000_000_000L, "closed within 1 s of the revocation");
        socket.close();
        Result after = whoami("c4");
        assertTrue(after.exitCode() != 0 || !after.stdout().contains("cam-4"), "next request refused: " + after.both());
        Result show = gateway.cli("device", "show", "cam-4");
        assertTrue(show.stdout().contains("status         revoked"), show.stdout());
    }

    @Test
    void aRevokedDeviceCannotResumeASavedTlsSession() throws Exception {
        Path pem = enroll("r5", "robot-5");
        byte[] request = "GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        Path sess = work.resolve("r5.sess");
        List<String> sClient = List.of("openssl", "s_client", "-connect", "localhost:" + gateway.devicePort(),
                "-cert", pem.toString(), "-key", work.resolve("r5.key").toString(), "-CAfile", root.toString(),
                "-ign_eof");
        List<String> save = new ArrayList<>(sClient);
        save.addAll(List.of("-sess_out", sess.toString()));
        Result first = Processes.run(work, Map.of(), save, request);
        assertTrue(first.stdout().contains("HTTP/1.1 200"), first.both());
        List<String> resume = new ArrayList<>(sClient);
        resume.addAll(List.of("-sess_in", sess.toString()));
        Result resumed = Processes.run(work, Map.of(), resume, request);
        assertTrue(resumed.stdout().contains("Reused"), "the saved session resumes: " + resumed.both());
        assertTrue(resumed.stdout().contains("HTTP/1.1 200"), resumed.both());

        assertEquals(0, gateway.cli("device", "revoke", "robot-5").exitCode());
        Result afterRevoke = Processes.run(work, Map.of(), resume, request);
        assertFalse(afterRevoke.stdout().contains("HTTP/1.1 200"), "resumed session refused: " + afterRevoke.both());
    }

    @Test
    void reenrollRenewsWithANewKeyAndIsRefusedOnceRevoked() throws Exception {
        Path pem = enroll("d6", "drone-6");
        Path newCsr = csr("d6b", "drone-6");
        Result renew = est("simplereenroll", newCsr, "application/pkcs10", null, "d6b", "--cert", pem.toString(),
                "--key", work.resolve("d6.key").toString());
        assertEquals("200", renew.stdout(), body("d6b"));
        Path renewed = decode("d6b");
        String subject = run("openssl", "x509", "-in", renewed.toString(), "-noout", "-subject").stdout();
        assertTrue(subject.contains("CN = drone-6"), subject);
        assertEquals(0, gateway.cli("device", "revoke", "drone-6").exitCode());
        Path third = csr("d6c", "drone-6");
        Result refused = est("simplereenroll", third, "application/pkcs10", null, "d6c", "--cert",
                renewed.toString(), "--key", work.resolve("d6b.key").toString());
        assertEquals("403", refused.stdout(), body("d6c"));
        assertTrue(body("d6c").contains("auth.certificate_revoked"), body("d6c"));
        Result noCert = est("simplereenroll", third, "application/pkcs10", null, "d6d");
        assertEquals("401", noCert.stdout(), body("d6d"));
    }

    @Test
    void adminApiRefusesDeviceCertificatesAndUnknownDevices() throws Exception {
        Path pem = enroll("a7", "gate-7");
        Result asDevice = run("curl", "-sS", "-w", "%{http_code}", "--cacert", root.toString(), "--cert",
                pem.toString(), "--key", work.resolve("a7.key").toString(), gateway.deviceUrl()
                        + "/v1/admin/devices");
        assertTrue(asDevice.stdout().endsWith("403"), asDevice.stdout());
        assertTrue(asDevice.stdout().contains("auth.forbidden"), asDevice.stdout());
        Result unknown = gateway.cli("device", "show", "no-such-device");
        assertEquals(2, unknown.exitCode(), unknown.both());
        assertTrue(unknown.stderr().contains("unknown device"), unknown.stderr());
        Result list = gateway.cli("device", "list", "--json");
        assertEquals(0, list.exitCode(), list.both());
        assertTrue(list.stdout().contains("\"id\" : \"gate-7\""), list.stdout());
        Result noCert = run("curl", "-sS", "--cacert", root.toString(), gateway.deviceUrl() + "/v1/whoami");
        assertTrue(noCert.exitCode() != 0, "the device listener requires a client certificate");
    }

    @Test
    void caCommandsGoThroughTheRunningGateway() throws Exception {
        Result csr = run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", work.resolve("svc.key").toString(), "-subj", "/CN=svc", "-out",
                work.resolve("svc.csr").toString());
        assertEquals(0, csr.exitCode(), csr.both());
        Result issued = gateway.cli("ca", "issue", "--csr", work.resolve("svc.csr").toString(), "--profile", "service",
                "--name", "mqtt-bridge", "--out", work.resolve("svc.pem").toString());
        assertEquals(0, issued.exitCode(), "ca issue while serving: " + issued.both());
        String text = run("openssl", "x509", "-in", work.resolve("svc.pem").toString(), "-noout", "-ext",
                "subjectAltName").stdout();
        assertTrue(text.contains("URI:spiffe://site.local/service/mqtt-bridge"), text);
        Result crl = gateway.cli("ca", "crl", "--out", work.resolve("live-crl.pem").toString());
        assertEquals(0, crl.exitCode(), crl.both());
        assertEquals(0, run("openssl", "crl", "-in", work.resolve("live-crl.pem").toString(), "-noout").exitCode());
        Result init = gateway.cli("ca", "init");
        assertEquals(3, init.exitCode(), "the data dir is held by the gateway: " + init.both());
    }
}
