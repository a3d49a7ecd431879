package dev.siteward.gateway.admin;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.lifecycle.CredentialRenewalJob;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Root rollover while the gateway runs ({@code siteward ca rotate-root}, {@code siteward ca retire-root} against a
 * running gateway): role {@code security}, like every {@code /v1/admin/ca/**} write. The CA does the work; the
 * gateway then moves its own server certificate to the new issuing CA and presents the rollover certificates, with
 * no restart.
 */
@Controller("/v1/admin/ca")
@ExecuteOn(TaskExecutors.BLOCKING)
public class CaRolloverController {

    private final SiteCa ca;
    private final CredentialRenewalJob renewal;
    private final AuditTrail audit;

    public CaRolloverController(SiteCa ca, CredentialRenewalJob renewal, AuditTrail audit) {
        this.ca = ca;
        this.renewal = renewal;
        this.audit = audit;
    }

    /** Body of {@code POST /v1/admin/ca/rotate-root}: the new root's lifetime ({@code 3650d}), optional. */
    public record RotateRootRequest(@Nullable String rootTtl) {
    }

    /** Body of {@code POST /v1/admin/ca/retire-root}: retire even though certificates under the old root remain. */
    public record RetireRootRequest(@Nullable Boolean force) {
    }

    @Post("/rotate-root")
    public Map<String, Object> rotateRoot(HttpRequest<?> request, @Nullable @Body RotateRootRequest body)
            throws GatewayException {
        RequestContext.admin(request);
        java.time.Duration ttl = body == null || body.rootTtl() == null ? null : AdminDurations.parse(body.rootTtl());
        try {
            int generation = ca.rotateRoot(null, ttl);
            audit.record(AuditEvent.caRootRotation(ca, generation));
            renewal.renewDue();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("rootGeneration", generation);
            out.put("rootFingerprint", Certificates.fingerprint(ca.root()));
            out.put("issuing", ca.issuingCertificate().getSubjectX500Principal().getName());
            return out;
        } catch (PkiException e) {
            throw new GatewayException(e.reason().badInput() ? Reason.CONFLICT : Reason.INTERNAL, e.getMessage(), e);
        }
    }

    @Post("/retire-root")
    public Map<String, Object> retireRoot(HttpRequest<?> request, @Nullable @Body RetireRootRequest body)
            throws GatewayException {
        RequestContext.admin(request);
        try {
            int cutOff = ca.retireRoots(body != null && Boolean.TRUE.equals(body.force()));
            audit.record(AuditEvent.caRootRetirement(ca, cutOff));
            renewal.renewDue();
            return Map.of("rootFingerprint", Certificates.fingerprint(ca.root()), "certificatesCutOff", cutOff);
        } catch (PkiException e) {
            throw new GatewayException(e.reason().badInput() ? Reason.CONFLICT : Reason.INTERNAL, e.getMessage(), e);
        }
    }
}
