package dev.siteward.device.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.validation.CertificateValidationException;
import dev.siteward.pki.validation.ChainValidator;
import dev.siteward.pki.validation.CrlSource;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks the gateway's signed documents (JWS compact serialization, RFC 7515) as docs/model-releases.md requires:
 * {@code alg} ES256 only; the {@code x5c} chain (RFC 7515 section 4.1.6: release certificate, then issuing CA)
 * validates to the pinned site root at the clock's time, with revocation checked against the gateway's CRLs; the
 * leaf's URI SAN is exactly {@code spiffe://<trust domain>/service/release}; the signature verifies with the leaf's
 * key; {@code typ} is the expected one and the payload's {@code type} matches it. No I/O of its own (the CRL source
 * may fetch).
 */
public final class SignedDocuments {

    /** The {@code typ} of the trust document. */
    public static final String TRUST_TYP = "siteward-model-trust+jwt";
    /** The {@code typ} of release metadata. */
    public static final String RELEASE_TYP = "siteward-release+jwt";

    private final List<X509Certificate> roots;
    private final String trustDomain;
    private final CrlSource crls;
    private final Clock clock;

    public SignedDocuments(X509Certificate pinnedRoot, String trustDomain, CrlSource crls, Clock clock) {
        this(List.of(pinnedRoot), trustDomain, crls, clock);
    }

    /** Accepts signing chains to any of these roots (the pinned root and, through a root rollover, the former). */
    public SignedDocuments(List<X509Certificate> pinnedRoots, String trustDomain, CrlSource crls, Clock clock) {
        this.roots = List.copyOf(pinnedRoots);
        this.trustDomain = trustDomain;
        this.crls = crls;
        this.clock = clock;
    }

    /** The identity the release signing certificate must carry. */
    public String releaseIdentity() {
        return "spiffe://" + trustDomain + "/service/release";
    }

    /**
     * Verifies a compact JWS of the given {@code typ} and returns its payload.
     *
     * @throws MetadataRefusedException {@code metadata.bad_signature} for anything that is not a valid document of
     *                                  this site's release key
     */
    public JsonNode verify(String compact, String typ) throws MetadataRefusedException {
        JWSObject jws;
        try {
            jws = JWSObject.parse(compact.strip());
        } catch (ParseException e) {
            throw refuse("not a compact JWS: " + e.getMessage());
        }
        if (!JWSAlgorithm.ES256.equals(jws.getHeader().getAlgorithm())) {
            throw refuse("alg " + jws.getHeader().getAlgorithm() + " is not ES256");
        }
        if (!new JOSEObjectType(typ).equals(jws.getHeader().getType())) {
            throw refuse("typ is " + jws.getHeader().getType() + ", expected " + typ);
        }
        if (jws.getHeader().getCriticalParams() != null && !jws.getHeader().getCriticalParams().isEmpty()) {
            throw refuse("unsupported critical header parameters " + jws.getHeader().getCriticalParams());
        }
        List<X509Certificate> chain = new ArrayList<>();
        if (jws.getHeader().getX509CertChain() == null || jws.getHeader().getX509CertChain().isEmpty()) {
            throw refuse("no x5c certificate chain");
        }
        try {
            for (com.nimbusds.jose.util.Base64 der : jws.getHeader().getX509CertChain()) {
                chain.add(Certificates.parse(der.decode()));
            }
        } catch (CertificateException | RuntimeException e) {
            throw refuse("unreadable x5c certificate");
        }
        try {
            new ChainValidator(roots, crls, clock).validate(chain, ChainValidator.Purpose.ANY);
        } catch (CertificateValidationException e) {
            throw refuse("the signing certificate does not validate to the pinned site root: " + e.getMessage());
        }
        X509Certificate leaf = chain.get(0);
        List<String> sans = Certificates.uriSans(leaf);
        if (!sans.equals(List.of(releaseIdentity()))) {
            throw refuse("the signing certificate is " + sans + ", not " + releaseIdentity());
        }
        try {
            if (!(leaf.getPublicKey() instanceof ECPublicKey ec) || !jws.verify(new ECDSAVerifier(ec))) {
                throw refuse("the signature does not verify with the release certificate's key");
            }
        } catch (JOSEException e) {
            throw refuse("the signature cannot be verified: " + e.getMessage());
        }
        JsonNode payload;
        try {
            payload = Json.MAPPER.readTree(jws.getPayload().toBytes());
        } catch (IOException e) {
            throw refuse("the payload is not JSON");
        }
        if (payload == null || !payload.isObject()) {
            throw refuse("the payload is not a JSON object");
        }
        String expectedType = typ.substring(0, typ.length() - "+jwt".length());
        if (!expectedType.equals(payload.path("type").asText())) {
            throw refuse("payload type is '" + payload.path("type").asText() + "', expected " + expectedType);
        }
        return payload;
    }

    /**
     * Reads a document this device accepted earlier (from its own directory) without checking it again: the
     * certificates in it may have expired since, and the directory is the device's own (0700).
     */
    static JsonNode payloadOfAccepted(String compact) throws ParseException, IOException {
        return Json.MAPPER.readTree(JWSObject.parse(compact.strip()).getPayload().toBytes());
    }

    private static MetadataRefusedException refuse(String message) {
        return (MetadataRefusedException) RefusalCode.METADATA_BAD_SIGNATURE.refuse(message);
    }
}
