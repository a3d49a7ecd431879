package dev.siteward.gateway.server;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.pki.SpiffeId;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Terminates TLS for the gateway's listeners in front of Micronaut's HTTP pipeline, with a policy per listener:
 * TLS 1.3 and 1.2 only, AEAD suites with forward secrecy, the site's server certificate (replaceable at runtime).
 * The device listener requires a client certificate, checked at the handshake by {@link ClientCertificateVerifier};
 * the enrollment listener asks for one but leaves its checks to each endpoint (EST re-enrollment, factory
 * certificates). After every handshake — including resumed sessions, which skip certificate checks — the client's
 * status is checked again and its connection is tracked, so revoking it closes the connection at once.
 */
public final class TlsTermination implements NettyServerCustomizer {

    private static final Logger LOG = LoggerFactory.getLogger(TlsTermination.class);

    /** TLS 1.3 suites, then TLS 1.2 ECDHE-ECDSA AEAD suites. */
    public static final List<String> CIPHERS = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /** The listener a connection arrived on. */
    public enum Listener { ENROLL, DEVICE }

    private final int enrollPort;
    private final int devicePort;
    private final SslContext enrollContext;
    private final SslContext deviceContext;
    private final ClientCertificateVerifier verifier;
    private final ConnectionTracker tracker;

    public TlsTermination(int enrollPort, int devicePort, ReloadableKeyManager keyManager,
                          ClientCertificateVerifier verifier, Supplier<List<X509Certificate>> acceptedIssuers,
                          ConnectionTracker tracker) throws SSLException {
        this.enrollPort = enrollPort;
        this.devicePort = devicePort;
        this.verifier = verifier;
        this.tracker = tracker;
        this.deviceContext = context(keyManager, new StrictTrustManager(verifier, acceptedIssuers), ClientAuth.REQUIRE);
        this.enrollContext = context(keyManager, new DeferredTrustManager(acceptedIssuers), ClientAuth.OPTIONAL);
    }

    private static SslContext context(ReloadableKeyManager km, X509ExtendedTrustManager tm, ClientAuth auth)
            throws SSLException {
        return SslContextBuilder.forServer(km).trustManager(tm).clientAuth(auth).protocols(PROTOCOLS)
                .ciphers(CIPHERS).sslProvider(SslProvider.JDK).build();
    }

    /** Which listener a local port belongs to, or null for other ports (e.g. management). */
    public Listener listenerOf(int localPort) {
        if (localPort == enrollPort) {
            return Listener.ENROLL;
        }
        if (localPort == devicePort) {
            return Listener.DEVICE;
        }
        return null;
    }

    @Override
    public NettyServerCustomizer specializeForChannel(Channel channel, ChannelRole role) {
        if (role != ChannelRole.CONNECTION || !(channel.localAddress() instanceof InetSocketAddress local)) {
            return this;
        }
        Listener listener = listenerOf(local.getPort());
        if (listener == null) {
            return this;
        }
        return new NettyServerCustomizer() {
            @Override
            public void onInitialPipelineBuilt() {
                SslContext ctx = listener == Listener.DEVICE ? deviceContext : enrollContext;
                SSLEngine engine = ctx.newEngine(channel.alloc());
                SslHandler handler = new SslHandler(engine);
                channel.pipeline().addFirst("siteward-tls", handler);
                channel.pipeline().addAfter("siteward-tls", "siteward-tls-peer", new PeerCheck(listener));
            }
        };
    }

    /** After each handshake: re-check the client (resumed sessions skip the trust manager) and track the connection. */
    private final class PeerCheck extends ChannelInboundHandlerAdapter {
        private final Listener listener;

        PeerCheck(Listener listener) {
            this.listener = listener;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
                SSLSession session = ctx.pipeline().get(SslHandler.class).engine().getSession();
                X509Certificate leaf = peer(session);
                if (leaf != null) {
                    try {
                        SpiffeId id = listener == Listener.DEVICE ? verifier.checkStatus(leaf) : null;
                        if (id != null) {
                            tracker.add(id.kind().segment() + "/" + id.name(), ctx.channel());
                        } else {
                            SpiffeId any = dev.siteward.pki.Certificates.spiffeId(leaf);
                            if (any != null) {
                                tracker.add(any.kind().segment() + "/" + any.name(), ctx.channel());
                            }
                        }
                    } catch (GatewayException e) {
                        LOG.info("closing {} connection from {}: {}", listener, ctx.channel().remoteAddress(),
                                e.getMessage());
                        session.invalidate();
                        ctx.close();
                        return;
                    }
                }
            }
            super.userEventTriggered(ctx, evt);
        }
    }

    static X509Certificate peer(SSLSession session) {
        try {
            var certs = session.getPeerCertificates();
            return certs.length > 0 && certs[0] instanceof X509Certificate x ? x : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /** A trust manager for the server side of a handshake: it never judges server certificates. */
    abstract static class ClientTrustManager extends X509ExtendedTrustManager {
        private final Supplier<List<X509Certificate>> issuers;

        ClientTrustManager(Supplier<List<X509Certificate>> issuers) {
            this.issuers = issuers;
        }

        abstract void check(X509Certificate[] chain) throws CertificateException;

        @Override
        public final void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            check(chain);
        }

        @Override
        public final void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            check(chain);
        }

        @Override
        public final void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public final void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("server-side trust manager");
        }

        @Override
        public final void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("server-side trust manager");
        }

        @Override
        public final void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("server-side trust manager");
        }

        @Override
        public final X509Certificate[] getAcceptedIssuers() {
            return new ArrayList<>(issuers.get()).toArray(new X509Certificate[0]);
        }
    }

    /** Device listener: the handshake fails unless the client certificate passes the verifier. */
    static final class StrictTrustManager extends ClientTrustManager {
        private final ClientCertificateVerifier verifier;

        StrictTrustManager(ClientCertificateVerifier verifier, Supplier<List<X509Certificate>> issuers) {
            super(issuers);
            this.verifier = verifier;
        }

        @Override
        void check(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("client certificate required");
            }
            try {
                verifier.verify(chain[0]);
            } catch (GatewayException e) {
                throw new CertificateException(e.getMessage());
            }
        }
    }

    /**
     * Enrollment listener: any client certificate is accepted at the TLS layer (its key possession is still proven by
     * the handshake); each endpoint decides what it accepts — the site CA for re-enrollment, a manufacturer CA for
     * factory certificates.
     */
    static final class DeferredTrustManager extends ClientTrustManager {
        DeferredTrustManager(Supplier<List<X509Certificate>> issuers) {
            super(issuers);
        }

        @Override
        void check(X509Certificate[] chain) {
            // checked by the endpoint that receives the request
        }
    }
}
