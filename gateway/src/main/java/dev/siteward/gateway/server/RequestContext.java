package dev.siteward.gateway.server;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.pki.SpiffeId;
import io.micronaut.http.HttpRequest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** What the gateway knows about a request: the client's certificate chain and its authenticated identity. */
public final class RequestContext {

    /** Request attribute holding the authenticated {@link SpiffeId} (device listener). */
    public static final String IDENTITY = "siteward.identity";

    private RequestContext() {
    }

    /** The client's certificate chain from the TLS session, leaf first, or an empty list. */
    public static List<X509Certificate> peerChain(HttpRequest<?> request) {
        SSLSession session = request.getSslSession().orElse(null);
        if (session == null) {
            return List.of();
        }
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : session.getPeerCertificates()) {
                if (c instanceof X509Certificate x) {
                    out.add(x);
                }
            }
            return out;
        } catch (SSLPeerUnverifiedException e) {
            return List.of();
        }
    }

    /** The authenticated identity; the device listener's filter guarantees one on /v1 routes. */
    public static SpiffeId identity(HttpRequest<?> request) throws GatewayException {
        return request.getAttribute(IDENTITY, SpiffeId.class).orElseThrow(() ->
                new GatewayException(Reason.CERTIFICATE_REQUIRED, "client certificate required"));
    }

    /** The identity, which must be an admin's. */
    public static SpiffeId admin(HttpRequest<?> request) throws GatewayException {
        SpiffeId id = identity(request);
        if (id.kind() != SpiffeId.Kind.ADMIN) {
            throw new GatewayException(Reason.FORBIDDEN, "admin API: an admin certificate is required");
        }
        return id;
    }
}
