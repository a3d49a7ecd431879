package dev.siteward.pki.tls;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.Test;

class NoDelaySocketFactoryTest {

    private static SSLSocketFactory plain() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        return ctx.getSocketFactory();
    }

    @Test
    void everySocketItMakesHasNagleOff() throws Exception {
        SSLSocketFactory f = NoDelaySocketFactory.wrap(plain());
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            int port = server.getLocalPort();
            InetAddress lo = InetAddress.getLoopbackAddress();
            // Paho's way: an unconnected socket, connected afterwards
            try (Socket s = f.createSocket()) {
                s.connect(server.getLocalSocketAddress(), 5_000);
                assertTrue(s.getTcpNoDelay(), "createSocket() then connect");
            }
            try (Socket s = f.createSocket("localhost", port)) {
                assertTrue(s.getTcpNoDelay(), "createSocket(host, port)");
            }
            try (Socket s = f.createSocket(lo, port)) {
                assertTrue(s.getTcpNoDelay(), "createSocket(address, port)");
            }
            try (Socket s = f.createSocket("localhost", port, lo, 0)) {
                assertTrue(s.getTcpNoDelay(), "createSocket(host, port, local, 0)");
            }
            try (Socket s = f.createSocket(lo, port, lo, 0)) {
                assertTrue(s.getTcpNoDelay(), "createSocket(address, port, local, 0)");
            }
            try (Socket raw = new Socket(lo, port); Socket s = f.createSocket(raw, "localhost", port, true)) {
                assertTrue(s.getTcpNoDelay(), "layered over a connected socket");
                assertTrue(raw.getTcpNoDelay(), "and on the socket underneath");
            }
        }
    }

    @Test
    void theDefaultFactoryLeavesNagleOnAndWrappingTwiceIsOneWrapper() throws Exception {
        SSLSocketFactory plain = plain();
        try (Socket s = plain.createSocket()) {
            assertFalse(s.getTcpNoDelay(), "the JDK default (what Paho gets without the wrapper)");
        }
        SSLSocketFactory once = NoDelaySocketFactory.wrap(plain);
        assertSame(once, NoDelaySocketFactory.wrap(once));
    }
}
