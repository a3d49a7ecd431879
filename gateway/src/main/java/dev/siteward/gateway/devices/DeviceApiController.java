package dev.siteward.gateway.devices;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SpiffeId;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;

/** The device API on the mTLS device listener. */
@Controller("/v1")
@ExecuteOn(TaskExecutors.BLOCKING)
public class DeviceApiController {

    private final DeviceRegistry devices;

    public DeviceApiController(DeviceRegistry devices) {
        this.devices = devices;
    }

    /** Who the caller is, by its certificate: identity, labels and certificate expiry. */
    @Get("/whoami")
    public Map<String, Object> whoami(HttpRequest<?> request) throws GatewayException, StoreException {
        SpiffeId id = RequestContext.identity(request);
        X509Certificate cert = RequestContext.peerChain(request).get(0);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id.name());
        out.put("kind", id.kind().segment());
        out.put("spiffeId", id.toString());
        if (id.kind() == SpiffeId.Kind.DEVICE) {
            Device d = devices.find(id.name()).orElse(null);
            out.put("labels", d == null ? Map.of() : d.labels());
            out.put("status", d == null ? "active" : d.status().dbName());
        }
        out.put("serial", cert.getSerialNumber().toString(16));
        out.put("certificateExpires", cert.getNotAfter().toInstant().toString());
        return out;
    }
}
