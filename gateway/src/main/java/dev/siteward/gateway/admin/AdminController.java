package dev.siteward.gateway.admin;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.admins.AdminAuthorization;
import dev.siteward.gateway.admins.AdminRole;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.enrollment.EnrollmentTokens;
import dev.siteward.gateway.revocation.RevocationService;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.ca.RegistryEntry;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin API on the device listener, for admin certificates only. The {@code siteward} CLI uses it while the
 * gateway holds the data dir; every route is a thin call into the same services the CLI uses offline.
 */
@Controller("/v1/admin")
@ExecuteOn(TaskExecutors.BLOCKING)
public class AdminController {

    private final DeviceRegistry devices;
    private final EnrollmentTokens tokens;
    private final RevocationService revocation;
    private final SiteCa ca;
    @jakarta.inject.Inject
    dev.siteward.gateway.audit.AuditTrail audit = dev.siteward.gateway.audit.AuditTrail.NONE;

    public AdminController(DeviceRegistry devices, EnrollmentTokens tokens, RevocationService revocation, SiteCa ca) {
        this.devices = devices;
        this.tokens = tokens;
        this.revocation = revocation;
        this.ca = ca;
    }

    /** Body of {@code POST /v1/admin/tokens}. */
    public record TokenRequest(String deviceId, Map<String, String> labels, String ttl) {
    }

    /** Body of registration and label changes. */
    public record DeviceRequest(String id, String idevidSerial, Map<String, String> labels) {
    }

    /** Body of {@code POST /v1/admin/certificates}: {@code siteward ca issue} while the gateway runs. */
    public record IssueBody(String csr, String profile, String name, List<String> dns, List<String> ips, String ttl,
                            String role) {
    }

    /** Body of revocations. */
    public record RevokeRequest(String reason) {
    }

    @Post("/tokens")
    public Map<String, String> createToken(HttpRequest<?> request, @Body TokenRequest body)
            throws GatewayException, StoreException {
        RequestContext.admin(request);
        if (body == null || body.deviceId() == null) {
            throw new GatewayException(Reason.BAD_REQUEST, "deviceId is required");
        }
        Duration ttl = body.ttl() == null ? null : AdminDurations.parse(body.ttl());
        return Map.of("token", tokens.create(body.deviceId(), body.labels() == null ? Map.of() : body.labels(), ttl));
    }

    @Get("/devices")
    public List<Device> listDevices(HttpRequest<?> request) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return devices.list();
    }

    @Get("/devices/{id}")
    public Device showDevice(HttpRequest<?> request, @PathVariable String id) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return devices.get(id);
    }

    @Post("/devices")
    public Device register(HttpRequest<?> request, @Body DeviceRequest body) throws GatewayException, StoreException {
        RequestContext.admin(request);
        if (body == null || body.id() == null) {
            throw new GatewayException(Reason.BAD_REQUEST, "id is required");
        }
        try {
            return devices.register(body.id(), body.idevidSerial(), body.labels() == null ? Map.of() : body.labels());
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }

    @Post("/devices/{id}/labels")
    public Device label(HttpRequest<?> request, @PathVariable String id, @Body DeviceRequest body)
            throws GatewayException, StoreException {
        RequestContext.admin(request);
        try {
            return devices.label(id, body == null || body.labels() == null ? Map.of() : body.labels());
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }

    @Post("/devices/{id}/suspend")
    public Device suspend(HttpRequest<?> request, @PathVariable String id) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return revocation.suspend(id);
    }

    @Post("/devices/{id}/resume")
    public Device resume(HttpRequest<?> request, @PathVariable String id) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return revocation.resume(id);
    }

    @Post("/devices/{id}/revoke")
    public List<Map<String, String>> revokeDevice(HttpRequest<?> request, @PathVariable String id,
                                                  @Body RevokeRequest body) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return revocation.revokeDevice(id, reason(body)).stream().map(AdminController::revoked).toList();
    }

    @Post("/certificates/{serial}/revoke")
    public Map<String, String> revokeSerial(HttpRequest<?> request, @PathVariable String serial,
                                            @Body RevokeRequest body) throws GatewayException, StoreException {
        RequestContext.admin(request);
        try {
            return revoked(revocation.revokeSerial(Certificates.parseSerial(serial), reason(body)));
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }

    @Post("/certificates")
    public Map<String, String> issue(HttpRequest<?> request, @Body IssueBody body)
            throws GatewayException, StoreException {
        RequestContext.admin(request);
        if (body == null || body.csr() == null || body.profile() == null || body.name() == null) {
            throw new GatewayException(Reason.BAD_REQUEST, "csr, profile and name are required");
        }
        try {
            byte[] der = java.util.Base64.getDecoder().decode(body.csr());
            if (CertificateProfile.parse(body.profile()) == CertificateProfile.ADMIN
                    && request.getAttribute(AdminAuthorization.ROLE, AdminRole.class).orElse(null)
                    != AdminRole.BOOTSTRAP) {
                // an admin certificate carries a role: issuing one is managing admins
                throw new GatewayException(Reason.FORBIDDEN, "issuing an admin certificate requires role bootstrap; "
                        + "use 'siteward admin add'");
            }
            IssuedCertificate issued = ca.issue(new IssueRequest(der, CertificateProfile.parse(body.profile()),
                    body.name(), body.dns(), body.ips(), body.ttl() == null ? null : AdminDurations.parse(body.ttl()),
                    body.role()));
            return Map.of("pem", PemCodec.certificates(List.of(issued.certificate(), issued.caChain().get(0))));
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        } catch (PkiException e) {
            throw new GatewayException(e.reason().badInput() ? Reason.BAD_REQUEST : Reason.INTERNAL, e.getMessage(), e);
        }
    }

    /** {@code siteward ca rotate} while the gateway runs: a new issuing CA, trusted at once, no restart. */
    @Post("/ca/rotate")
    public Map<String, Object> rotate(HttpRequest<?> request) throws GatewayException {
        RequestContext.admin(request);
        try {
            int generation = ca.rotate();
            audit.record(dev.siteward.gateway.audit.AuditEvent.caRotation(ca, generation));
            return Map.of("generation", generation, "subject",
                    ca.issuingCertificate().getSubjectX500Principal().getName());
        } catch (PkiException e) {
            throw new GatewayException(e.reason().badInput() ? Reason.CONFLICT : Reason.INTERNAL, e.getMessage(), e);
        }
    }

    @Get("/crl{?root}")
    public Map<String, String> crl(HttpRequest<?> request, @io.micronaut.core.annotation.Nullable Boolean root)
            throws GatewayException {
        RequestContext.admin(request);
        try {
            return Map.of("pem", PemCodec.crl(Boolean.TRUE.equals(root) ? ca.rootCrl() : ca.crl()));
        } catch (PkiException e) {
            throw new GatewayException(Reason.INTERNAL, e.getMessage(), e);
        }
    }

    private static RevocationReason reason(RevokeRequest body) throws GatewayException {
        try {
            return body == null || body.reason() == null ? RevocationReason.UNSPECIFIED
                    : RevocationReason.parse(body.reason());
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }

    /** The JSON form of a revoked certificate, shared by the admin API and the CLI. */
    public static Map<String, String> revoked(RegistryEntry e) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("serial", Certificates.serialHex(e.serial()));
        m.put("profile", e.profile() == null ? "ca" : e.profile().cliName());
        m.put("name", e.name());
        m.put("reason", e.reason().rfcName());
        m.put("revokedAt", e.revokedAt().toString());
        return m;
    }
}
