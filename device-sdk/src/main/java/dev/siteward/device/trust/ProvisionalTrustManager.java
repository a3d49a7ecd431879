package dev.siteward.device.trust;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.X509TrustManager;

/**
 * The provisional server authentication of RFC 7030 section 4.1.1, for exactly one request: the token-less
 * {@code GET /.well-known/est/cacerts} at bootstrap, when the device knows only the root's fingerprint and the
 * gateway does not present its root. It completes the handshake and records the server's chain; the caller then
 * accepts the answer only when the returned CA certificates hold a root whose fingerprint is the pin AND the recorded
 * chain validates to that root ({@link PinnedRoot#validate}). Nothing secret is ever sent over such a connection,
 * and its client is discarded afterwards; every later connection uses {@link PinnedRootTrustManager}.
 */
public final class ProvisionalTrustManager implements X509TrustManager {

    private final AtomicReference<List<X509Certificate>> presented = new AtomicReference<>();

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new UntrustedChainException("the server presented no certificate");
        }
        if (!presented.compareAndSet(null, List.copyOf(Arrays.asList(chain)))
                && !presented.get().equals(Arrays.asList(chain))) {
            throw new UntrustedChainException("the server presented a different chain on a second connection");
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a device does not accept TLS clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    /** The chain the server presented, or an empty list when no handshake happened. */
    public List<X509Certificate> presentedChain() {
        List<X509Certificate> c = presented.get();
        return c == null ? List.of() : c;
    }
}
