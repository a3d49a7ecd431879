package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * One admin API call with a JSON answer, mapped to the CLI's exit codes: 422 is a failed check (exit 1), 401/403 a
 * refusal (exit 3), other 4xx bad input (exit 2), 5xx internal; a gateway that does not answer is exit 3.
 */
final class AdminHttp {

    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminHttp() {
    }

    /**
     * Sends the request and returns its JSON body ({@code null} node when empty).
     *
     * @param codeInMessage whether the one-line message of a 4xx/5xx answer starts with the gateway's error code
     */
    static JsonNode send(HttpClient client, URI base, HttpRequest.Builder request, Duration timeout,
                         boolean codeInMessage) {
        try {
            HttpResponse<String> r = client.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode node = r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
            if (r.statusCode() >= 400) {
                String code = node.path("code").asText("");
                String msg = node.path("message").asText("gateway answered " + r.statusCode());
                if (r.statusCode() == 422) {
                    throw new CliException(CliException.CHECK_FAILED, code + ": " + msg);
                }
                if (r.statusCode() == 401 || r.statusCode() == 403) {
                    throw new CliException(CliException.UNREACHABLE, msg);
                }
                throw new CliException(r.statusCode() >= 500 ? CliException.INTERNAL : CliException.BAD_INPUT,
                        (codeInMessage && !code.isEmpty() ? code + ": " : "") + msg);
            }
            return node;
        } catch (java.net.ConnectException e) {
            throw new CliException(CliException.UNREACHABLE, "the gateway does not answer at " + base);
        } catch (IOException e) {
            throw new CliException(CliException.UNREACHABLE, "cannot reach the gateway: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.UNREACHABLE, "interrupted");
        }
    }
}
