package dev.siteward.gateway.server;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.pki.SpiffeId;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpRequestWrapper;
import io.micronaut.http.server.netty.NettyHttpRequest;
import io.netty.handler.ssl.SslHandler;
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
        SSLSession session = session(request);
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

    /**
     * The TLS session of the request's connection. TLS is terminated by {@link TlsTermination} in front of Micronaut's
     * pipeline, so the session is read from that handler on the request's channel.
     */
    static SSLSession session(HttpRequest<?> request) {
        HttpRequest<?> r = request;
        while (r instanceof HttpRequestWrapper<?> w) {
            r = w.getDelegate();
        }
        if (r instanceof NettyHttpRequest<?> netty) {
            SslHandler handler = netty.getChannelHandlerContext().pipeline().get(SslHandler.class);
            return handler == null ? null : handler.engine().getSession();
        }
        return request.getSslSession().orElse(null);
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
