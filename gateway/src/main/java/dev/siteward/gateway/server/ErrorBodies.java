package dev.siteward.gateway.server;

import dev.siteward.gateway.GatewayException;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON error body every failure gets: {@code {"code": "<stable code>", "message": "<safe text>"}}. */
public final class ErrorBodies {

    private ErrorBodies() {
    }

    public static MutableHttpResponse<Map<String, String>> of(GatewayException e) {
        return of(e.reason().status(), e.reason().code(), e.getMessage());
    }

    public static MutableHttpResponse<Map<String, String>> of(int status, String code, String message) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("code", code);
        body.put("message", message);
        return HttpResponse.<Map<String, String>>status(HttpStatus.valueOf(status)).body(body)
                .contentType(MediaType.APPLICATION_JSON_TYPE);
    }
}
