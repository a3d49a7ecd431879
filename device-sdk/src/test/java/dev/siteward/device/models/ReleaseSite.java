package dev.siteward.device.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.testkit.TestIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Signs what the gateway would sign, the way docs/model-releases.md specifies: trust documents and per-device release
 * metadata as ES256 JWS with the x5c chain of a {@code service/release} certificate; and publishes models (signed
 * with {@link ModelSigner} by a publisher) into a {@link FakeModelServer}'s blob store.
 */
final class ReleaseSite {

    static final ObjectMapper JSON = new ObjectMapper();

    /** A published model version: the entry the metadata lists, and the bytes behind it. */
    record Published(String name, long version, String signatureSha256, long signatureSize,
            Map<String, byte[]> files) {

        ObjectNode entry(Long rollbackFrom) {
            ObjectNode m = JSON.createObjectNode();
            m.put("name", name);
            m.put("version", version);
            m.put("channel", "stable");
            if (rollbackFrom == null) {
                m.putNull("rollbackFrom");
            } else {
                m.put("rollbackFrom", rollbackFrom);
            }
            ObjectNode sig = m.putObject("signature");
            sig.put("sha256", signatureSha256);
            sig.put("size", signatureSize);
            ArrayNode fs = m.putArray("files");
            files.forEach((path, bytes) -> {
                ObjectNode f = fs.addObject();
                f.put("path", path);
                f.put("size", bytes.length);
                f.put("sha256", sha256(bytes));
            });
            return m;
        }
    }

    private final TestIdentity release;
    private final X509Certificate issuing;

    ReleaseSite(TestIdentity release) {
        this.release = release;
        this.issuing = release.chain().get(1);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signs a payload as the gateway does, with any typ. */
    String sign(String typ, ObjectNode payload) {
        return sign(typ, payload, release);
    }

    static String sign(String typ, ObjectNode payload, TestIdentity signer) {
        try {
            JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType(typ))
                    .x509CertChain(List.of(com.nimbusds.jose.util.Base64.encode(signer.certificate().getEncoded()),
                            com.nimbusds.jose.util.Base64.encode(signer.chain().get(1).getEncoded())))
                    .build();
            JWSObject jws = new JWSObject(header, new Payload(JSON.writeValueAsString(payload)));
            jws.sign(new ECDSASigner((ECPrivateKey) signer.privateKey()));
            return jws.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A trust document: publisher name → (name rules, roots). */
    String trust(long version, Map<String, Map.Entry<List<String>, List<X509Certificate>>> publishers) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", "siteward-model-trust");
        n.put("version", version);
        n.put("issued", Instant.now().toString());
        ArrayNode ps = n.putArray("publishers");
        publishers.forEach((name, e) -> {
            ObjectNode p = ps.addObject();
            p.put("name", name);
            ArrayNode models = p.putArray("models");
            e.getKey().forEach(models::add);
            ArrayNode roots = p.putArray("roots");
            e.getValue().forEach(r -> {
                try {
                    roots.add(Base64.getEncoder().encodeToString(r.getEncoded()));
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            });
        });
        return sign(SignedDocuments.TRUST_TYP, n);
    }

    /** Release metadata payload with the snapshot computed from the entries. */
    static ObjectNode metadataPayload(String device, long version, Instant issued, Instant expires,
            List<ObjectNode> models, List<byte[]> withdrawals) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", "siteward-release");
        n.put("device", device);
        n.put("version", version);
        n.put("issued", issued.toString());
        n.put("expires", expires.toString());
        n.put("trustVersion", 1);
        ArrayNode ms = n.putArray("models");
        models.forEach(ms::add);
        ArrayNode ws = n.putArray("withdrawals");
        withdrawals.forEach(w -> ws.add(Base64.getEncoder().encodeToString(w)));
        n.put("snapshot", snapshot(models));
        return n;
    }

    static String snapshot(List<ObjectNode> models) {
        TreeMap<String, String> lines = new TreeMap<>();
        models.forEach(m -> lines.put(m.get("name").asText(), m.get("name").asText() + " " + m.get("version").asLong()
                + " " + m.get("signature").get("sha256").asText() + "\n"));
        return sha256(String.join("", lines.values()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    String metadata(String device, long version, Instant expires, List<ObjectNode> models, List<byte[]> withdrawals) {
        return sign(SignedDocuments.RELEASE_TYP, metadataPayload(device, version, expires.minusSeconds(7 * 86400),
                expires, models, withdrawals));
    }

    /**
     * Writes a model folder with the given files, signs it with the publisher's chain, and serves the signature and
     * files from {@code server}.
     */
    static Published publish(FakeModelServer server, Path work, String name, long version, Map<String, byte[]> files,
            TestIdentity publisher) throws Exception {
        Path folder = work.resolve(name.replace('/', '_') + "-" + version + "-" + System.nanoTime());
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = folder.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        byte[] bundle = ModelSigner.withCertificateChain(publisher.privateKey(), publisher.chain().subList(0, 2))
                .sign(ModelLocation.of(folder)).bundle();
        server.blobs.put(sha256(bundle), bundle);
        files.values().forEach(b -> server.blobs.put(sha256(b), b));
        return new Published(name, version, sha256(bundle), bundle.length, new TreeMap<>(files));
    }

    /** A publisher identity issued by a publisher CA. */
    static TestIdentity publisher(dev.siteward.pki.testkit.TestPki publisherCa, String name) {
        return publisherCa.issue(CertificateProfile.PUBLISHER, name);
    }

    static List<ObjectNode> list(ObjectNode... entries) {
        return new ArrayList<>(List.of(entries));
    }
}
