package dev.siteward.device.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.pki.modelsig.ModelNames;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The site's publisher trust as the gateway signed it ({@code typ: siteward-model-trust+jwt}): which publisher roots
 * may sign which model names. A device pins it and replaces it only by a validly signed higher version.
 */
public record TrustDocument(long version, Instant issued, List<Publisher> publishers) {

    /** One trusted publisher: its name rules and its root certificates. */
    public record Publisher(String name, List<String> models, List<X509Certificate> roots) {
        public Publisher {
            models = List.copyOf(models);
            roots = List.copyOf(roots);
        }
    }

    public TrustDocument {
        publishers = List.copyOf(publishers);
    }

    /** The roots of every publisher whose name rules cover {@code modelName} (empty when none may sign it). */
    public List<X509Certificate> rootsFor(String modelName) {
        Set<X509Certificate> out = new LinkedHashSet<>();
        for (Publisher p : publishers) {
            if (ModelNames.anyMatches(p.models(), modelName)) {
                out.addAll(p.roots());
            }
        }
        return List.copyOf(out);
    }

    /** Every pinned publisher root. */
    public List<X509Certificate> allRoots() {
        Set<X509Certificate> out = new LinkedHashSet<>();
        publishers.forEach(p -> out.addAll(p.roots()));
        return List.copyOf(out);
    }

    /** Reads the payload of a verified trust document; a malformed one is refused as not the site's document. */
    static TrustDocument parse(JsonNode n) throws MetadataRefusedException {
        try {
            long version = Json.positiveLong(n, "version");
            Instant issued = Json.instant(n, "issued");
            List<Publisher> publishers = new ArrayList<>();
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (JsonNode p : Json.array(n, "publishers")) {
                List<String> models = new ArrayList<>();
                for (JsonNode m : Json.array(p, "models")) {
                    if (!m.isTextual() || !ModelNames.isValidRule(m.asText())) {
                        throw new IllegalArgumentException("invalid name rule " + m);
                    }
                    models.add(m.asText());
                }
                List<X509Certificate> roots = new ArrayList<>();
                for (JsonNode r : Json.array(p, "roots")) {
                    roots.add((X509Certificate) cf.generateCertificate(
                            new ByteArrayInputStream(Base64.getDecoder().decode(r.asText()))));
                }
                publishers.add(new Publisher(Json.text(p, "name"), models, roots));
            }
            return new TrustDocument(version, issued, publishers);
        } catch (CertificateException | RuntimeException e) {
            throw (MetadataRefusedException) RefusalCode.METADATA_BAD_SIGNATURE.refuse(
                    "the trust document is malformed: " + e.getMessage());
        }
    }
}
