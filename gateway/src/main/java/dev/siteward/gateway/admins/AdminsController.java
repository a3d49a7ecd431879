package dev.siteward.gateway.admins;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.cli.DurationText;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.RevocationReason;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * {@code /v1/admin/admins}: the admins of the site. Reading is open to every role; adding, renewing and revoking to
 * the bootstrap admin ({@link AdminRouteTable}). Bodies carry a CSR (base64 DER), never a key.
 */
@Controller("/v1/admin/admins")
@ExecuteOn(TaskExecutors.BLOCKING)
public class AdminsController {

    private final AdminDirectory admins;

    public AdminsController(AdminDirectory admins) {
        this.admins = admins;
    }

    /** Body of {@code POST /v1/admin/admins}. */
    public record AddRequest(String name, String role, String csr, String ttl) {
    }

    /** Body of {@code POST /v1/admin/admins/{name}/renew}. */
    public record RenewRequest(String csr, String ttl) {
    }

    /** Body of {@code POST /v1/admin/admins/{name}/revoke}. */
    public record RevokeRequest(String reason) {
    }

    @Get
    public List<Admin> list(HttpRequest<?> request) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return admins.list();
    }

    @Get("/{name}")
    public Admin show(HttpRequest<?> request, @PathVariable String name) throws GatewayException, StoreException {
        RequestContext.admin(request);
        return admins.get(name);
    }

    @Post
    public AdminCredential add(HttpRequest<?> request, @Body AddRequest body) throws GatewayException, StoreException {
        String by = RequestContext.admin(request).name();
        if (body == null || body.name() == null || body.role() == null) {
            throw new GatewayException(Reason.BAD_REQUEST, "name, role and csr are required");
        }
        AdminRole role;
        try {
            role = AdminRole.parseAssignable(body.role());
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
        return admins.add(body.name(), role, csr(body.csr()), ttl(body.ttl()), by);
    }

    @Post("/{name}/renew")
    public AdminCredential renew(HttpRequest<?> request, @PathVariable String name, @Body RenewRequest body)
            throws GatewayException, StoreException {
        String by = RequestContext.admin(request).name();
        if (body == null) {
            throw new GatewayException(Reason.BAD_REQUEST, "csr is required");
        }
        return admins.renew(name, csr(body.csr()), ttl(body.ttl()), by);
    }

    @Post("/{name}/revoke")
    public Admin revoke(HttpRequest<?> request, @PathVariable String name, @Body RevokeRequest body)
            throws GatewayException, StoreException {
        String by = RequestContext.admin(request).name();
        try {
            RevocationReason reason = body == null || body.reason() == null ? RevocationReason.UNSPECIFIED
                    : RevocationReason.parse(body.reason());
            return admins.revoke(name, reason, by);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }

    private static byte[] csr(String base64) throws GatewayException {
        if (base64 == null || base64.isBlank()) {
            throw new GatewayException(Reason.BAD_REQUEST, "csr is required (base64 DER)");
        }
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, "csr is not base64");
        }
    }

    private static Duration ttl(String text) throws GatewayException {
        try {
            return text == null ? null : DurationText.parse(text);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }
}
