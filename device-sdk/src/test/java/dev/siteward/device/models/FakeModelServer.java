package dev.siteward.device.models;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * A stand-in for the gateway's device listener, in-process over mTLS (device certificates of the test site only):
 * {@code /crls}, {@code /v1/models/trust}, {@code /v1/models/metadata}, {@code /v1/models/blobs/{sha256}} with
 * {@code Range}, and {@code /v1/models/reports}. Tests set what it serves, including bytes that differ from what
 * was published, and how a download breaks.
 */
final class FakeModelServer implements AutoCloseable {

    /** One request as seen: method, path, Range header, body. */
    record Seen(String method, String path, String range, String body) {
    }

    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    /** Blob digests whose next answers are cut off after half the bytes (connection closed), counted down. */
    final Map<String, AtomicInteger> interruptions = new ConcurrentHashMap<>();
    /** Blob digests served like a gateway whose file changed on disk: the last 1000 bytes are never sent. */
    final java.util.Set<String> cutShort = ConcurrentHashMap.newKeySet();
    /** With {@link #cutShort}: a request for only the withheld rest is answered 500 (no byte sent). */
    volatile boolean cutWithError;
    /** Blob digests the gateway found changed on its disk: answered 500 model.blob_corrupt. */
    final java.util.Set<String> corrupt = ConcurrentHashMap.newKeySet();
    volatile String trust;
    volatile String metadata;
    private final HttpsServer server;
    private final TestPki site;

    FakeModelServer(TestPki site, TestIdentity tlsIdentity) throws Exception {
        this.site = site;
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", tlsIdentity.privateKey(), "pw".toCharArray(),
                tlsIdentity.chain().subList(0, 2).toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "pw".toCharArray());
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", site.root());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        server = HttpsServer.create(new InetSocketAddress("localhost", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = ctx.getDefaultSSLParameters();
                p.setWantClientAuth(true); // /crls is public, as on the enrollment listener
                params.setSSLParameters(p);
            }
        });
        server.createContext("/", this::handle);
        server.start();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String range = ex.getRequestHeaders().getFirst("Range");
        seen.add(new Seen(ex.getRequestMethod(), path, range, body));
        try {
            if (path.startsWith("/v1/") && !hasClientCertificate(ex)) {
                reply(ex, 401, "application/json", "{\"code\":\"authn.required\"}".getBytes(StandardCharsets.US_ASCII));
            } else if (path.equals("/crls")) {
                reply(ex, 200, "application/x-pem-file", (PemCodec.crl(site.ca().rootCrl())
                        + PemCodec.crl(site.ca().crl())).getBytes(StandardCharsets.US_ASCII));
            } else if (path.equals("/v1/models/trust") && trust != null) {
                reply(ex, 200, "application/jose", trust.getBytes(StandardCharsets.US_ASCII));
            } else if (path.equals("/v1/models/metadata") && metadata != null) {
                reply(ex, 200, "application/jose", metadata.getBytes(StandardCharsets.US_ASCII));
            } else if (path.equals("/v1/models/reports") && ex.getRequestMethod().equals("POST")) {
                reply(ex, 202, "application/json", "{}".getBytes(StandardCharsets.US_ASCII));
            } else if (path.startsWith("/v1/models/blobs/")
                    && blobs.containsKey(path.substring("/v1/models/blobs/".length()))) {
                blob(ex, path.substring("/v1/models/blobs/".length()), range);
            } else {
                reply(ex, 404, "application/json",
                        "{\"code\":\"model.not_found\",\"message\":\"no\"}".getBytes(StandardCharsets.US_ASCII));
            }
        } catch (PkiException e) {
            reply(ex, 500, "application/json", "{}".getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static boolean hasClientCertificate(HttpExchange ex) {
        try {
            return ((com.sun.net.httpserver.HttpsExchange) ex).getSSLSession().getPeerCertificates().length > 0;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return false;
        }
    }

    private void blob(HttpExchange ex, String sha, String range) throws IOException {
        if (corrupt.contains(sha)) {
            reply(ex, 500, "application/json", "{\"code\":\"model.blob_corrupt\",\"message\":\"changed on disk\"}"
                    .getBytes(StandardCharsets.US_ASCII));
            return;
        }
        byte[] all = blobs.get(sha);
        int from = 0;
        if (range != null) {
            from = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
            if (from >= all.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + all.length);
                reply(ex, 416, "application/json", "{}".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (all.length - 1) + "/" + all.length);
        }
        ex.getResponseHeaders().set("ETag", "\"sha256:" + sha + "\"");
        ex.getResponseHeaders().set("Accept-Ranges", "bytes");
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        int length = all.length - from;
        if (cutShort.contains(sha) && cutWithError && all.length - 1000 - from <= 0) {
            // as a server that fails before the first byte of the withheld rest: an error answer
            reply(ex, 500, "application/json", "{}".getBytes(StandardCharsets.US_ASCII));
            return;
        }
        AtomicInteger cut = interruptions.get(sha);
        ex.sendResponseHeaders(range == null ? 200 : 206, length);
        OutputStream out = ex.getResponseBody();
        if (cut != null && cut.getAndDecrement() > 0) {
            out.write(all, from, length / 2);
            out.flush();
            // the connection drops mid-body: the server closes it when a handler fails
            throw new IOException("simulated connection drop after " + length / 2 + " bytes");
        }
        if (cutShort.contains(sha)) {
            int send = Math.max(0, all.length - 1000 - from);
            out.write(all, from, send);
            out.flush();
            throw new IOException("simulated cut before the last 1000 bytes");
        }
        out.write(all, from, length);
        out.close();
    }

    private static void reply(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            ex.getResponseBody().write(body);
        }
        ex.close();
    }

    URI url() {
        return URI.create("https://localhost:" + server.getAddress().getPort() + "/");
    }

    List<Seen> reports() {
        return seen.stream().filter(s -> s.path().equals("/v1/models/reports")).toList();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
