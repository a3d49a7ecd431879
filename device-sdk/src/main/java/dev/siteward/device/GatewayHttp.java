package dev.siteward.device;

import dev.siteward.device.trust.GatewayCrls;
import dev.siteward.device.trust.PinnedRootTrustManager;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PemCodec;
import java.security.cert.X509CRL;
import java.time.Clock;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.trust.UntrustedChainException;
import dev.siteward.pki.est.EstCodec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;

/**
 * HTTP to the gateway over TLS 1.2/1.3 with the JDK client: builds clients from key and trust managers, sends, and
 * turns every failure into a {@link DeviceException} whose reason separates security refusals (401/403, a server
 * that is not the pinned site, a refused client certificate) from transport failures (unreachable, 5xx, 429).
 */
final class GatewayHttp {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    static final ObjectMapper JSON = new ObjectMapper();

    private GatewayHttp() {
    }

    static HttpClient client(KeyManager[] keyManagers, TrustManager trustManager) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            // no key managers means no client certificate: never the JVM's default key store
            ctx.init(keyManagers == null ? new KeyManager[0] : keyManagers, new TrustManager[] {trustManager}, null);
            SSLParameters params = new SSLParameters();
            params.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            return HttpClient.newBuilder().sslContext(ctx).sslParameters(params).connectTimeout(CONNECT_TIMEOUT)
                    .version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS is not available in this JVM", e);
        }
    }

    static HttpRequest.Builder request(URI base, String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT);
    }

    /** Sends and returns the response when it is 2xx; anything else becomes a {@link DeviceException}. */
    static HttpResponse<byte[]> send(HttpClient client, HttpRequest request) throws DeviceException {
        HttpResponse<byte[]> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw classify(e, request.uri());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException(Reason.UNREACHABLE, "interrupted while calling " + request.uri(), e);
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return response;
        }
        throw failure(request, status, response.body(), response.headers());
    }

    /**
     * Sends and returns the streaming response when it is 2xx (the caller closes the body); anything else becomes a
     * {@link DeviceException} as in {@link #send}.
     */
    static HttpResponse<java.io.InputStream> sendStreaming(HttpClient client, HttpRequest request)
            throws DeviceException {
        HttpResponse<java.io.InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw classify(e, request.uri());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException(Reason.UNREACHABLE, "interrupted while calling " + request.uri(), e);
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return response;
        }
        byte[] body;
        try (java.io.InputStream in = response.body()) {
            body = in.readNBytes(64 * 1024);
        } catch (IOException e) {
            body = new byte[0];
        }
        throw failure(request, status, body, response.headers());
    }

    private static DeviceException failure(HttpRequest request, int status, byte[] responseBody,
            java.net.http.HttpHeaders headers) {
        String code = null;
        String message = null;
        try {
            JsonNode body = JSON.readTree(responseBody);
            code = body.path("code").isTextual() ? body.path("code").asText() : null;
            message = body.path("message").isTextual() ? body.path("message").asText() : null;
        } catch (IOException | RuntimeException ignored) {
            // not a JSON error body
        }
        String what = request.method() + " " + request.uri().getPath() + ": gateway answered " + status
                + (code == null ? "" : " " + code) + (message == null ? "" : " (" + message + ")");
        if (status == 401 || status == 403) {
            return new DeviceException(Reason.REFUSED, what, code, null, null);
        }
        if (status == 429) {
            Duration after = headers.firstValue("Retry-After").map(GatewayHttp::seconds).orElse(null);
            return new DeviceException(Reason.RATE_LIMITED, what, code, after, null);
        }
        if (status >= 500) {
            return new DeviceException(Reason.UNREACHABLE, what, code, null, null);
        }
        return new DeviceException(Reason.REJECTED, what, code, null, null);
    }

    static DeviceException classify(IOException e, URI uri) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UntrustedChainException u) {
                return new DeviceException(Reason.UNTRUSTED_GATEWAY, "refusing " + hostPort(uri) + ": "
                        + u.getMessage(), e);
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLException s && s.getMessage() != null) {
                String m = s.getMessage().toLowerCase(Locale.ROOT);
                if (m.contains("no subject alternative") || m.contains("no name matching")) {
                    return new DeviceException(Reason.UNTRUSTED_GATEWAY, "refusing " + hostPort(uri)
                            + ": its certificate does not name this host (" + s.getMessage() + ")", e);
                }
                if (m.contains("alert")) {
                    return new DeviceException(Reason.REFUSED, hostPort(uri) + " refused the TLS handshake ("
                            + s.getMessage() + "): the device certificate is not accepted", e);
                }
            }
        }
        String m;
        if (e instanceof java.net.http.HttpConnectTimeoutException) {
            m = "connect timed out";
        } else if (e instanceof java.net.http.HttpTimeoutException) {
            m = "no answer within " + REQUEST_TIMEOUT.toSeconds() + " s";
        } else if (e instanceof java.net.ConnectException) {
            m = "connection refused";
        } else {
            m = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
        return new DeviceException(Reason.UNREACHABLE, "gateway " + hostPort(uri) + " unreachable: " + m, e);
    }

    static List<X509Certificate> certsOnly(HttpResponse<byte[]> response) throws DeviceException {
        try {
            return EstCodec.parseCertsOnly(EstCodec.decodeBase64(response.body()));
        } catch (CertificateException | IllegalArgumentException e) {
            throw new DeviceException(Reason.PROTOCOL, response.request().uri().getPath()
                    + ": unreadable certs-only answer: " + e.getMessage(), e);
        }
    }

    /**
     * The CRLs of a gateway, fetched from {@code <enrollUrl>/crls} over a channel that trusts only the pinned root
     * (without a revocation check of its own: the CRLs are signed, and the validator checks them).
     */
    static GatewayCrls crls(URI enrollUrl, X509Certificate root, Clock clock) {
        return crls(enrollUrl, List.of(root), clock);
    }

    /** The same over a channel that accepts any of these roots (the pinned root first). */
    static GatewayCrls crls(URI enrollUrl, List<X509Certificate> roots, Clock clock) {
        HttpClient pinned = client(null, PinnedRootTrustManager.forRoots(roots, clock));
        return new GatewayCrls(() -> {
            try {
                HttpResponse<byte[]> r = send(pinned, request(enrollUrl, "/crls").GET().build());
                List<X509CRL> out = new java.util.ArrayList<>();
                for (byte[] der : PemCodec.decodeAll(new String(r.body(), StandardCharsets.US_ASCII), "X509 CRL")) {
                    out.add(Certificates.parseCrl(der));
                }
                return out;
            } catch (DeviceException | java.io.IOException | java.security.cert.CRLException e) {
                throw new IllegalStateException("cannot fetch the gateway's CRLs: " + e.getMessage(), e);
            }
        }, clock);
    }

    static JsonNode json(HttpResponse<byte[]> response) throws DeviceException {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new DeviceException(Reason.PROTOCOL, response.request().uri().getPath() + ": unreadable JSON", e);
        }
    }

    static String hostPort(URI uri) {
        return uri.getHost() + ":" + uri.getPort();
    }

    private static Duration seconds(String value) {
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(value.strip())));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
