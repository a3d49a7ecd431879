package dev.siteward.tests.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A minimal HTTP/1.1 client on one keep-alive TLS connection: the benchmark's own client, so the client side costs
 * as little CPU as possible on the shared 2 cores (no async machinery, no pool) and the connection is explicit.
 */
final class Http1 implements AutoCloseable {

    record Response(int status, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final SSLSocket socket;
    private final InputStream in;
    private final OutputStream out;

    Http1(SSLContext ctx, int port) throws IOException {
        socket = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", port);
        socket.setTcpNoDelay(true);
        socket.startHandshake();
        in = new BufferedInputStream(socket.getInputStream(), 16384);
        out = socket.getOutputStream();
    }

    SSLSocket socket() {
        return socket;
    }

    InputStream in() {
        return in;
    }

    Response get(String path) throws IOException {
        return send("GET", path, null, null, null);
    }

    Response post(String path, String contentType, String authorization, byte[] body) throws IOException {
        return send("POST", path, contentType, authorization, body);
    }

    Response send(String method, String path, String contentType, String authorization, byte[] body)
            throws IOException {
        StringBuilder sb = new StringBuilder(256).append(method).append(' ').append(path)
                .append(" HTTP/1.1\r\nHost: localhost\r\n");
        if (contentType != null) {
            sb.append("Content-Type: ").append(contentType).append("\r\n");
        }
        if (authorization != null) {
            sb.append("Authorization: ").append(authorization).append("\r\n");
        }
        if (body != null) {
            sb.append("Content-Length: ").append(body.length).append("\r\n");
        }
        sb.append("\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
        if (body == null) {
            out.write(head);
        } else {
            byte[] all = new byte[head.length + body.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            out.write(all);
        }
        out.flush();
        return read();
    }

    private Response read() throws IOException {
        String status = line();
        if (status == null) {
            throw new IOException("connection closed");
        }
        int code = Integer.parseInt(status.substring(9, 12));
        int length = -1;
        boolean chunked = false;
        boolean close = false;
        String h;
        while ((h = line()) != null && !h.isEmpty()) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                close = true;
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (chunked) {
            while (true) {
                int n = Integer.parseInt(line().trim().split(";")[0], 16);
                if (n == 0) {
                    line();
                    break;
                }
                body.write(in.readNBytes(n));
                line();
            }
        } else if (length >= 0) {
            body.write(in.readNBytes(length));
        } else {
            body.write(in.readAllBytes());
        }
        if (close) {
            socket.close();
        }
        return new Response(code, body.toByteArray());
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            sb.append((char) c);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
