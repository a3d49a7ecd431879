package dev.siteward.device.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.pki.testkit.TestIdentity;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * Model signatures made by hand, validly signed by a publisher, with a manifest that {@code ModelSigner} would never
 * write (paths with {@code ..}): what a compromised publisher tool or a crafted bundle would carry. Built from the
 * format in docs/model-signing.md (DSSE v1 PAE, in-toto Statement v1, Sigstore bundle v0.3).
 */
final class CraftedBundles {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CraftedBundles() {
    }

    static byte[] modelBundle(TestIdentity publisher, Map<String, byte[]> files) throws Exception {
        ObjectNode statement = JSON.createObjectNode();
        statement.put("_type", "https://in-toto.io/Statement/v1");
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        ObjectNode predicate = JSON.createObjectNode();
        ObjectNode serialization = predicate.putObject("serialization");
        serialization.put("method", "files");
        serialization.put("hash_type", "sha256");
        serialization.put("allow_symlinks", false);
        ArrayNode resources = predicate.putArray("resources");
        for (Map.Entry<String, byte[]> f : new TreeMap<>(files).entrySet()) {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(f.getValue());
            raw.write(d);
            ObjectNode r = resources.addObject();
            r.put("algorithm", "sha256");
            r.put("digest", HexFormat.of().formatHex(d));
            r.put("name", f.getKey());
        }
        ObjectNode subject = statement.putArray("subject").addObject();
        subject.put("name", "crafted");
        subject.putObject("digest").put("sha256",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw.toByteArray())));
        statement.put("predicateType", "https://model_signing/signature/v1.0");
        statement.set("predicate", predicate);
        byte[] payload = JSON.writeValueAsBytes(statement);
        String type = "application/vnd.in-toto+json";
        ByteArrayOutputStream pae = new ByteArrayOutputStream();
        pae.write(("DSSEv1 " + type.length() + " " + type + " " + payload.length + " ")
                .getBytes(StandardCharsets.US_ASCII));
        pae.write(payload);
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(publisher.privateKey());
        s.update(pae.toByteArray());
        byte[] sig = s.sign();
        Base64.Encoder b64 = Base64.getEncoder();
        ObjectNode bundle = JSON.createObjectNode();
        bundle.put("mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json");
        ObjectNode material = bundle.putObject("verificationMaterial");
        ArrayNode certs = material.putObject("x509CertificateChain").putArray("certificates");
        certs.addObject().put("rawBytes", b64.encodeToString(publisher.certificate().getEncoded()));
        certs.addObject().put("rawBytes", b64.encodeToString(publisher.chain().get(1).getEncoded()));
        material.putArray("tlogEntries");
        ObjectNode envelope = bundle.putObject("dsseEnvelope");
        envelope.put("payload", b64.encodeToString(payload));
        envelope.put("payloadType", type);
        ObjectNode sg = envelope.putArray("signatures").addObject();
        sg.put("sig", b64.encodeToString(sig));
        sg.put("keyid", "");
        return JSON.writeValueAsBytes(bundle);
    }
}
