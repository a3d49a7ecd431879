package dev.siteward.gateway.server;

import dev.siteward.gateway.mqtt.MqttConfiguration;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.security.cert.CRLException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/** Public endpoints of the enrollment listener: site discovery, the CRL, health. */
@Controller
@ExecuteOn(TaskExecutors.BLOCKING)
public class SiteController {

    private final SiteCa ca;
    private final SitewardConfiguration config;
    private final Clock clock;
    private final dev.siteward.gateway.time.TimeGuard timeGuard;
    private final MqttConfiguration mqtt;

    public SiteController(SiteCa ca, SitewardConfiguration config, Clock clock,
                          dev.siteward.gateway.time.TimeGuard timeGuard, MqttConfiguration mqtt) {
        this.ca = ca;
        this.config = config;
        this.clock = clock;
        this.timeGuard = timeGuard;
        this.mqtt = mqtt;
    }

    /** What a device needs from the enrollment URL alone: trust domain, root fingerprint, the other listeners. */
    @Get("/.well-known/siteward")
    public Map<String, Object> siteInfo() {
        String host = GatewayBeans.advertisedHost(config);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("trustDomain", ca.trustDomain());
        info.put("rootFingerprint", Certificates.fingerprint(ca.root()));
        // root rollover: every trusted root, and the certificates that chain the new root to the old one; a device
        // adopts a new root only when a rollover certificate signed by the root it pinned vouches for it
        java.util.List<Map<String, Object>> roots = new java.util.ArrayList<>();
        for (SiteCa.RootState r : ca.rootGenerations()) {
            if (r.trusted()) {
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("fingerprint", Certificates.fingerprint(r.certificate()));
                root.put("current", r.current());
                root.put("notAfter", r.certificate().getNotAfter().toInstant().toString());
                root.put("trustedUntil", r.trustedUntil().toString());
                root.put("pem", PemCodec.certificates(java.util.List.of(r.certificate())));
                roots.add(root);
            }
        }
        info.put("roots", roots);
        info.put("rolloverCertificates", ca.rolloverCertificates().stream()
                .map(c -> PemCodec.certificates(java.util.List.of(c))).toList());
        info.put("enrollUrl", "https://" + hostPort(host, config.getEnrollPort()));
        info.put("deviceUrl", "https://" + hostPort(host, config.getDevicePort()));
        info.put("mqttUrl", mqttUrl(host));
        info.put("time", clock.instant().toString());
        // trusted time: the latest time this gateway recorded, and whether its clock is at or past it
        dev.siteward.gateway.time.TimeGuard.Status time = timeGuard.status();
        info.put("lastRecordedTime", time.lastRecorded().toString());
        info.put("clockTrusted", time.trusted());
        return info;
    }

    /** The issuing CA's current CRL, DER (RFC 5280 section 4.2.1.13 via HTTP). */
    @Get("/crl")
    public HttpResponse<byte[]> crl() throws PkiException, CRLException {
        return HttpResponse.ok(ca.crl().getEncoded()).contentType("application/pkix-crl");
    }

    /** The CRL of an earlier (or the current) issuing CA generation, for certificates it issued. */
    @Get("/crl/{generation}")
    public HttpResponse<byte[]> crlOfGeneration(int generation) throws PkiException, CRLException {
        return HttpResponse.ok(ca.crl(generation).getEncoded()).contentType("application/pkix-crl");
    }

    /**
     * Every CRL a device needs to check the gateway's own chain and its peers': the root's and each trusted issuing
     * generation's, PEM. Devices fetch it over their pinned channel; each CRL is signed, so it proves itself.
     */
    @Get(value = "/crls", produces = "application/x-pem-file")
    public String allCrls() throws PkiException {
        StringBuilder pem = new StringBuilder();
        for (java.security.cert.X509CRL rootCrl : ca.rootCrls()) {
            pem.append(PemCodec.crl(rootCrl));
        }
        for (java.security.cert.X509Certificate issuing : ca.issuingCertificates()) {
            java.security.cert.X509CRL crl = ca.crlOf(issuing);
            if (crl != null) {
                pem.append(PemCodec.crl(crl));
            }
        }
        return pem.toString();
    }

    @Get("/health")
    public Map<String, String> health() {
        return Map.of("status", "UP");
    }

    /** The MQTT broker devices use: the configured URL, else the embedded broker's; null when neither is known. */
    private String mqttUrl(String host) {
        if (mqtt.getAdvertisedUrl() != null && !mqtt.getAdvertisedUrl().isBlank()) {
            return mqtt.getAdvertisedUrl();
        }
        try {
            return mqtt.brokerMode() == MqttConfiguration.BrokerMode.EMBEDDED
                    ? "mqtts://" + hostPort(host, mqtt.getPort()) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
