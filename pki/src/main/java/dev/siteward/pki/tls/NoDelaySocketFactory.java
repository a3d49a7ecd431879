package dev.siteward.pki.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Objects;
import javax.net.ssl.SSLSocketFactory;

/**
 * An {@link SSLSocketFactory} whose sockets have Nagle's algorithm off ({@code TCP_NODELAY}). MQTT clients write many
 * small packets (a PUBACK, then a PUBLISH) and wait for small answers: with Nagle on, the second write waits for the
 * TCP acknowledgement of the first, which the peer may delay by 40 ms or more. Eclipse Paho takes a socket factory but
 * never sets the option itself, so the gateway's and the SDK's MQTT clients are given this one.
 */
public final class NoDelaySocketFactory extends SSLSocketFactory {

    private final SSLSocketFactory delegate;

    private NoDelaySocketFactory(SSLSocketFactory delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** Wraps {@code delegate}: every socket it makes has {@code TCP_NODELAY} set before it is returned. */
    public static SSLSocketFactory wrap(SSLSocketFactory delegate) {
        return delegate instanceof NoDelaySocketFactory ? delegate : new NoDelaySocketFactory(delegate);
    }

    private static Socket noDelay(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        return s;
    }

    @Override
    public Socket createSocket() throws IOException {
        return noDelay(delegate.createSocket());
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
        return noDelay(delegate.createSocket(noDelay(s), host, port, autoClose));
    }

    @Override
    public Socket createSocket(Socket s, InputStream consumed, boolean autoClose) throws IOException {
        return noDelay(delegate.createSocket(noDelay(s), consumed, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return noDelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return noDelay(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return noDelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return noDelay(delegate.createSocket(address, port, localAddress, localPort));
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }
}
