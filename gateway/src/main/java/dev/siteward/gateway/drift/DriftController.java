package dev.siteward.gateway.drift;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.inference.InferenceService;
import dev.siteward.gateway.server.RequestContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/admin/fleet/drift}: the running gateway's input drift per device and model
 * ({@link DriftMonitor#snapshot()}), with the settings it is judged by.
 */
@Controller("/v1/admin/fleet")
public class DriftController {

    private final InferenceService inference;

    public DriftController(InferenceService inference) {
        this.inference = inference;
    }

    @Get("/drift")
    public Map<String, Object> drift(HttpRequest<?> request) throws GatewayException {
        RequestContext.admin(request);
        return render(inference.drift());
    }

    /** The JSON document of docs/inference.md ("Drift"). */
    static Map<String, Object> render(DriftMonitor monitor) {
        DriftMonitor.Settings s = monitor.settings();
        List<Map<String, Object>> devices = new ArrayList<>();
        for (DriftMonitor.DeviceDrift d : monitor.snapshot()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("device", d.device());
            m.put("model", d.model());
            m.put("version", d.version());
            m.put("readings", d.readings());
            m.put("judged", d.judged());
            m.put("drifting", d.drifting());
            m.put("feature", d.judged() ? d.feature() : null);
            m.put("psi", d.judged() ? round(d.psi()) : null);
            List<Double> by = new ArrayList<>();
            for (double v : d.psiByFeature()) {
                by.add(round(v));
            }
            m.put("psiByFeature", by);
            m.put("since", d.since() == null ? null : d.since().toString());
            devices.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("threshold", s.threshold());
        out.put("clearBelow", s.clearBelow());
        out.put("window", s.window());
        out.put("minimum", s.minimum());
        out.put("devices", devices);
        return out;
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
