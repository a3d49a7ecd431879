package dev.siteward.device.models;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.device.DeviceHttpClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The model routes on the gateway's device listener, over the device's mTLS client (pinned root, device key). */
public final class HttpModelGateway implements ModelGateway {

    private static final com.fasterxml.jackson.databind.ObjectMapper COMPACT =
            new com.fasterxml.jackson.databind.ObjectMapper();
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final DeviceHttpClient http;

    public HttpModelGateway(DeviceHttpClient http) {
        this.http = http;
    }

    private URI base() {
        return http.identity().state().deviceUrl();
    }

    @Override
    public String trust() throws DeviceException {
        return jose("/v1/models/trust");
    }

    @Override
    public String metadata() throws DeviceException {
        return jose("/v1/models/metadata");
    }

    private String jose(String path) throws DeviceException {
        // no Accept header: the documents are checked as JWS whatever the Content-Type says
        HttpResponse<byte[]> r = http.send(DeviceHttpClient.request(base(), path).GET().build());
        return new String(r.body(), StandardCharsets.US_ASCII).strip();
    }

    @Override
    public BlobBody blob(String sha256, long offset) throws DeviceException {
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a SHA-256: " + sha256);
        }
        HttpRequest.Builder b = DeviceHttpClient.request(base(), "/v1/models/blobs/" + sha256).GET();
        if (offset > 0) {
            b.header("Range", "bytes=" + offset + "-");
        }
        HttpResponse<InputStream> r = http.stream(b.build());
        if (r.statusCode() == 206) {
            Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
            if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                close(r.body());
                throw new DeviceException(Reason.PROTOCOL, "blob " + sha256 + ": a partial answer that does not "
                        + "start at byte " + offset);
            }
            return new BlobBody(r.body(), offset);
        }
        if (r.statusCode() != 200) {
            close(r.body());
            throw new DeviceException(Reason.PROTOCOL, "blob " + sha256 + ": unexpected status " + r.statusCode());
        }
        return new BlobBody(r.body(), 0);
    }

    @Override
    public void report(ModelReport report) throws DeviceException {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("model", report.model());
        if (report.version() == null) {
            n.putNull("version");
        } else {
            n.put("version", report.version());
        }
        n.put("result", report.result());
        n.put("code", report.code());
        n.put("message", report.message());
        n.put("snapshot", report.snapshot());
        byte[] body;
        try {
            body = COMPACT.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        http.send(DeviceHttpClient.request(base(), "/v1/models/reports").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    private static void close(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
