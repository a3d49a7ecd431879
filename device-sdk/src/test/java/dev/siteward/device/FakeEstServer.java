package dev.siteward.device;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.est.EstCodec;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for the gateway's enrollment listener on localhost, in-process: serves {@code /cacerts},
 * {@code /crls} and {@code /.well-known/siteward} from a test CA, presents a server certificate of the caller's choice, and answers
 * {@code simpleenroll} with a caller-supplied handler. Records every request, so tests can see what was sent.
 */
final class FakeEstServer implements AutoCloseable {

    /** One request as the server saw it. */
    record Seen(String method, String path, String authorization, byte[] body) {
    }

    /** An answer: status and body. */
    record Answer(int status, String contentType, byte[] body) {
    }

    final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final HttpsServer server;

    /**
     * @param tlsIdentity the server certificate (and its chain without root) presented in the handshake
     * @param site        whose CA certificates {@code /cacerts} and {@code /.well-known/siteward} describe
     * @param enroll      answers {@code simpleenroll} given the decoded CSR
     */
    FakeEstServer(TestIdentity tlsIdentity, TestPki site, Function<byte[], Answer> enroll) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", tlsIdentity.privateKey(), "pw".toCharArray(),
                tlsIdentity.chain().subList(0, 2).toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "pw".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("localhost", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx));
        List<X509Certificate> caCerts = List.of(site.ca().issuingCertificate(), site.root());
        server.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            seen.add(new Seen(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Authorization"), body));
            Answer a = switch (path) {
                case "/.well-known/est/cacerts" -> new Answer(200, EstCodec.CERTS_ONLY,
                        EstCodec.base64(EstCodec.certsOnly(caCerts)).getBytes(StandardCharsets.US_ASCII));
                case "/.well-known/siteward" -> new Answer(200, "application/json", ("{\"trustDomain\":\""
                        + site.ca().trustDomain() + "\",\"rootFingerprint\":\"" + Certificates.fingerprint(site.root())
                        + "\",\"enrollUrl\":\"https://gateway.example:" + port() + "\",\"deviceUrl\":"
                        + "\"https://gateway.example:9443\",\"time\":\"2026-01-01T00:00:00Z\"}")
                        .getBytes(StandardCharsets.UTF_8));
                case "/.well-known/est/simpleenroll" -> enroll.apply(EstCodec.decodeBase64(body));
                case "/crls" -> crls(site);
                default -> new Answer(404, "application/json", "{\"code\":\"not_found\"}".getBytes());
            };
            reply(ex, a);
        });
        server.start();
    }

    /** The site's root and issuing CRLs, PEM, as the gateway's {@code /crls} serves them. */
    private static Answer crls(TestPki site) {
        try {
            String pem = PemCodec.crl(site.ca().rootCrl()) + PemCodec.crl(site.ca().crl());
            return new Answer(200, "application/x-pem-file", pem.getBytes(StandardCharsets.US_ASCII));
        } catch (PkiException e) {
            return error(500, "crl");
        }
    }

    private static void reply(HttpExchange ex, Answer a) throws IOException {
        ex.getResponseHeaders().set("Content-Type", a.contentType());
        ex.sendResponseHeaders(a.status(), a.body().length);
        ex.getResponseBody().write(a.body());
        ex.close();
    }

    /** Issues the CSR from the test CA as a device certificate: leaf, then issuing CA. */
    static Answer issued(TestPki site, byte[] csr, String deviceId) {
        List<X509Certificate> chain = TestDevices.issue(site, csr, deviceId);
        return new Answer(200, EstCodec.CERTS_ONLY,
                EstCodec.base64(EstCodec.certsOnly(chain)).getBytes(StandardCharsets.US_ASCII));
    }

    static Answer error(int status, String code) {
        return new Answer(status, "application/json", ("{\"code\":\"" + code + "\",\"message\":\"no\"}")
                .getBytes(StandardCharsets.UTF_8));
    }

    int port() {
        return server.getAddress().getPort();
    }

    URI url() {
        return URI.create("https://localhost:" + port());
    }

    /** The requests that carried an Authorization header (i.e. the token). */
    long tokenRequests() {
        return seen.stream().filter(s -> s.authorization() != null).count();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
