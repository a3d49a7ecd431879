package dev.siteward.gateway.enrollment;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.server.RequestContext;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.csr.CsrValidator;
import dev.siteward.pki.est.EstCodec;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.security.cert.X509Certificate;
import java.util.List;

/** EST (RFC 7030) on the enrollment listener: {@code /.well-known/est/...}. Parses, calls the service, renders. */
@Controller("/.well-known/est")
@ExecuteOn(TaskExecutors.BLOCKING)
public class EstController {

    /** Largest base64 request body accepted: a 64 KiB CSR in base64 with line breaks. */
    static final int MAX_BODY = (CsrValidator.MAX_CSR_BYTES / 3 + 1) * 4 * 66 / 64 + 16;

    private final EnrollmentService enrollment;
    private final SiteCa ca;

    public EstController(EnrollmentService enrollment, SiteCa ca) {
        this.enrollment = enrollment;
        this.ca = ca;
    }

    /**
     * Section 4.1: the CA certificates (issuing CA, then root); during a root rollover every trusted root and the
     * rollover certificates NewWithOld and OldWithNew (section 4.1.3).
     */
    @Get("/cacerts")
    public HttpResponse<String> cacerts() {
        return certsOnly(ca.caCertificates());
    }

    /** Section 4.5: the CSR attributes the CA wants. */
    @Get("/csrattrs")
    public HttpResponse<String> csrattrs() {
        return HttpResponse.ok(EstCodec.base64(EstCodec.csrAttributes())).contentType(EstCodec.CSRATTRS)
                .header("Content-Transfer-Encoding", "base64");
    }

    /** Section 4.2.1: enroll with a one-time token ({@code Authorization: Bearer}) or a factory certificate. */
    @Post("/simpleenroll")
    @Consumes(MediaType.ALL)
    public HttpResponse<String> simpleenroll(HttpRequest<?> request, @Body byte[] body)
            throws GatewayException, StoreException {
        byte[] csr = csr(request, body);
        String auth = request.getHeaders().get("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return certsOnly(enrollment.enrollWithToken(csr, auth.substring(7).trim()));
        }
        List<X509Certificate> chain = RequestContext.peerChain(request);
        if (!chain.isEmpty()) {
            return certsOnly(enrollment.enrollWithFactoryCertificate(csr, chain));
        }
        throw new GatewayException(Reason.TOKEN_MISSING, "enrollment needs a token (Authorization: Bearer) or a "
                + "factory certificate");
    }

    /** Section 4.2.2: renew with the current device certificate as the TLS client certificate. */
    @Post("/simplereenroll")
    @Consumes(MediaType.ALL)
    public HttpResponse<String> simplereenroll(HttpRequest<?> request, @Body byte[] body)
            throws GatewayException, StoreException {
        byte[] csr = csr(request, body);
        return certsOnly(enrollment.reenroll(csr, RequestContext.peerChain(request)));
    }

    private static byte[] csr(HttpRequest<?> request, byte[] body) throws GatewayException {
        String type = request.getHeaders().get("Content-Type");
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).split(";")[0].trim().equals(EstCodec.PKCS10)) {
            throw new GatewayException(Reason.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be " + EstCodec.PKCS10);
        }
        if (body == null || body.length == 0) {
            throw new GatewayException(Reason.CSR_INVALID, "request body is empty: expected a base64 PKCS#10 CSR");
        }
        if (body.length > MAX_BODY) {
            throw new GatewayException(Reason.TOO_LARGE, "CSR is larger than " + CsrValidator.MAX_CSR_BYTES
                    + " bytes");
        }
        try {
            return EstCodec.decodeBase64(body);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.CSR_INVALID, "request body is not base64: expected a base64 PKCS#10 "
                    + "CSR (RFC 7030 section 4.2.1)");
        }
    }

    private static HttpResponse<String> certsOnly(List<X509Certificate> certs) {
        return HttpResponse.ok(EstCodec.base64(EstCodec.certsOnly(certs))).contentType(EstCodec.CERTS_ONLY)
                .header("Content-Transfer-Encoding", "base64");
    }
}
