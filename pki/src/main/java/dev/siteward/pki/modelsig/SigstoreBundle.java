package dev.siteward.pki.modelsig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The parts of a Sigstore bundle v0.3 (JSON) that model signatures use: verification material (an X.509 chain, leaf
 * first, or a public-key hint) and a DSSE envelope with one signature.
 *
 * <p>Sigstore bundle: {@code sigstore/protobuf-specs} {@code sigstore_bundle.proto}; DSSE envelope and PAE:
 * {@code secure-systems-lab/dsse} protocol v1.0.0.
 *
 * @param certificateChainDer the certificates' DER encodings, leaf first; empty in key mode
 * @param publicKeyHint the key-mode hint (reference implementation: hex SHA-256 of the PEM public key), or null
 * @param payloadType the DSSE payload type
 * @param payload the DSSE payload bytes (decoded)
 * @param signature the DSSE signature bytes (decoded)
 */
record SigstoreBundle(List<byte[]> certificateChainDer, String publicKeyHint, String payloadType, byte[] payload,
                      byte[] signature) {

    static final String MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
    static final String IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

    SigstoreBundle {
        certificateChainDer = List.copyOf(certificateChainDer);
    }

    boolean hasCertificateChain() {
        return !certificateChainDer.isEmpty();
    }

    /**
     * Returns the DSSE v1 pre-authentication encoding of {@code payload}:
     * {@code "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body}, lengths in ASCII decimal bytes.
     */
    static byte[] pae(String payloadType, byte[] payload) {
        byte[] type = payloadType.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("DSSEv1 " + type.length + " " + payloadType + " " + payload.length + " ")
                .getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[head.length + payload.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(payload, 0, out, head.length, payload.length);
        return out;
    }

    /** Parses a bundle; anything that is not a v0.3 bundle with one DSSE signature is malformed. */
    static SigstoreBundle parse(byte[] json) throws ModelSignatureException {
        ObjectNode root = Json.parseObject(json, "bundle");
        String mediaType = Json.text(root, "mediaType", "bundle");
        if (!MEDIA_TYPE.equals(mediaType)) {
            throw Json.malformed("bundle mediaType is '" + mediaType + "', expected " + MEDIA_TYPE);
        }
        ObjectNode material = Json.objectField(root, "verificationMaterial", "bundle");
        List<byte[]> chain = new ArrayList<>();
        String hint = null;
        JsonNode x509 = material.get("x509CertificateChain");
        JsonNode publicKey = material.get("publicKey");
        if (x509 != null && !x509.isNull()) {
            JsonNode certs = Json.array(x509, "certificates", "verificationMaterial.x509CertificateChain");
            if (certs.isEmpty()) {
                throw Json.malformed("verificationMaterial.x509CertificateChain has no certificate");
            }
            for (JsonNode c : certs) {
                chain.add(Json.base64(c, "rawBytes", "x509CertificateChain.certificates[]"));
            }
        } else if (publicKey != null && publicKey.isObject()) {
            JsonNode h = publicKey.get("hint");
            hint = h != null && h.isTextual() ? h.textValue() : null;
        } else {
            throw Json.malformed("verificationMaterial has neither x509CertificateChain nor publicKey");
        }
        ObjectNode envelope = Json.objectField(root, "dsseEnvelope", "bundle");
        byte[] payload = Json.base64(envelope, "payload", "dsseEnvelope");
        String payloadType = Json.text(envelope, "payloadType", "dsseEnvelope");
        JsonNode signatures = Json.array(envelope, "signatures", "dsseEnvelope");
        if (signatures.size() != 1) {
            throw Json.malformed("dsseEnvelope has " + signatures.size() + " signatures, expected exactly 1");
        }
        byte[] sig = Json.base64(signatures.get(0), "sig", "dsseEnvelope.signatures[0]");
        return new SigstoreBundle(chain, hint, payloadType, payload, sig);
    }

    /**
     * Writes the bundle as the reference implementation does: {@code mediaType}, {@code verificationMaterial}
     * (chain or {@code publicKey.hint}, and an empty {@code tlogEntries}), {@code dsseEnvelope} with {@code keyid}
     * {@code ""}; byte fields in standard base64 with padding.
     */
    byte[] toJson() {
        Base64.Encoder b64 = Base64.getEncoder();
        ObjectNode root = Json.object();
        root.put("mediaType", MEDIA_TYPE);
        ObjectNode material = root.putObject("verificationMaterial");
        if (hasCertificateChain()) {
            ArrayNode certs = material.putObject("x509CertificateChain").putArray("certificates");
            for (byte[] der : certificateChainDer) {
                certs.addObject().put("rawBytes", b64.encodeToString(der));
            }
        } else {
            ObjectNode pk = material.putObject("publicKey");
            if (publicKeyHint != null) {
                pk.put("hint", publicKeyHint);
            }
        }
        material.putArray("tlogEntries");
        ObjectNode envelope = root.putObject("dsseEnvelope");
        envelope.put("payload", b64.encodeToString(payload));
        envelope.put("payloadType", payloadType);
        ObjectNode s = envelope.putArray("signatures").addObject();
        s.put("sig", b64.encodeToString(signature));
        s.put("keyid", "");
        return Json.write(root);
    }
}
