package dev.siteward.gateway.inference;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The management listener (plain HTTP, bound to 127.0.0.1 unless configured): {@code GET /prometheus} — Prometheus
 * text exposition 0.0.4 — and {@code GET /health} — {@code {"status":"UP"|"DOWN",...}} with 200 or 503. Anything
 * else is 404, any other method 405. It carries no credentials and changes nothing.
 */
public final class ManagementListener implements AutoCloseable {

    /** A health answer: whether the gateway is up, and the JSON body. */
    public record Health(boolean up, String json) {
    }

    private final HttpServer server;

    public ManagementListener(String address, int port, Supplier<String> prometheus, Supplier<Health> health)
            throws IOException {
        server = HttpServer.create(new InetSocketAddress(address, port), 16);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                    send(exchange, 405, "application/json",
                            "{\"code\":\"method_not_allowed\",\"message\":\"GET only\"}");
                    return;
                }
                switch (exchange.getRequestURI().getPath()) {
                    case "/prometheus" -> send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                            prometheus.get());
                    case "/health" -> {
                        Health h = health.get();
                        send(exchange, h.up() ? 200 : 503, "application/json", h.json());
                    }
                    default -> send(exchange, 404, "application/json",
                            "{\"code\":\"not_found\",\"message\":\"try /prometheus or /health\"}");
                }
            }
        });
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "management-listener");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    /** Stops the listener; a second call does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.stop(0);
        }
    }
}
