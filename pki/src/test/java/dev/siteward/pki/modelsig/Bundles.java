package dev.siteward.pki.modelsig;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;
import java.util.function.UnaryOperator;

/** Test helpers that rewrite fields of a bundle JSON. */
final class Bundles {

    private Bundles() {
    }

    static ObjectNode parse(byte[] bundle) throws Exception {
        return (ObjectNode) Json.MAPPER.readTree(bundle);
    }

    static byte[] write(ObjectNode node) {
        return Json.write(node);
    }

    /** Returns the bundle with its decoded DSSE payload replaced by {@code f(payload)}, re-encoded. */
    static byte[] withPayload(byte[] bundle, UnaryOperator<byte[]> f) throws Exception {
        ObjectNode root = parse(bundle);
        ObjectNode env = (ObjectNode) root.get("dsseEnvelope");
        byte[] payload = Base64.getDecoder().decode(env.get("payload").textValue());
        env.put("payload", Base64.getEncoder().encodeToString(f.apply(payload)));
        return write(root);
    }

    /** Returns the bundle with its decoded signature replaced by {@code f(sig)}, re-encoded. */
    static byte[] withSignature(byte[] bundle, UnaryOperator<byte[]> f) throws Exception {
        ObjectNode root = parse(bundle);
        ObjectNode sig = (ObjectNode) root.get("dsseEnvelope").get("signatures").get(0);
        byte[] raw = Base64.getDecoder().decode(sig.get("sig").textValue());
        sig.put("sig", Base64.getEncoder().encodeToString(f.apply(raw)));
        return write(root);
    }

    /** Returns the bundle with certificate {@code index} of the chain replaced by {@code f(der)}. */
    static byte[] withCertificate(byte[] bundle, int index, UnaryOperator<byte[]> f) throws Exception {
        ObjectNode root = parse(bundle);
        ArrayNode certs = (ArrayNode) root.get("verificationMaterial").get("x509CertificateChain")
                .get("certificates");
        ObjectNode c = (ObjectNode) certs.get(index);
        byte[] der = Base64.getDecoder().decode(c.get("rawBytes").textValue());
        c.put("rawBytes", Base64.getEncoder().encodeToString(f.apply(der)));
        return write(root);
    }

    static int certificateCount(byte[] bundle) throws Exception {
        return parse(bundle).get("verificationMaterial").get("x509CertificateChain").get("certificates").size();
    }

    /** Returns a copy of {@code bytes} with the byte at {@code index} XOR-ed with 0x01. */
    static byte[] flip(byte[] bytes, int index) {
        byte[] out = bytes.clone();
        out[index] ^= 0x01;
        return out;
    }
}
