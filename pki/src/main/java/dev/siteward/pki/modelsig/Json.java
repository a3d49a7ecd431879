package dev.siteward.pki.modelsig;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Base64;

/** Strict JSON reading (duplicate keys and trailing content refused) and compact writing for bundles and payloads. */
final class Json {

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static byte[] write(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    /** Parses {@code bytes} as one JSON object, or fails as a malformed bundle naming {@code what}. */
    static ObjectNode parseObject(byte[] bytes, String what) throws ModelSignatureException {
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw malformed(what + " is not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw malformed(what + " is not a JSON object");
        }
        return (ObjectNode) node;
    }

    static JsonNode field(JsonNode parent, String name, String where) throws ModelSignatureException {
        JsonNode n = parent.get(name);
        if (n == null || n.isNull()) {
            throw malformed(where + " has no '" + name + "'");
        }
        return n;
    }

    static ObjectNode objectField(JsonNode parent, String name, String where) throws ModelSignatureException {
        JsonNode n = field(parent, name, where);
        if (!n.isObject()) {
            throw malformed(where + "." + name + " is not an object");
        }
        return (ObjectNode) n;
    }

    static String text(JsonNode parent, String name, String where) throws ModelSignatureException {
        JsonNode n = field(parent, name, where);
        if (!n.isTextual()) {
            throw malformed(where + "." + name + " is not a string");
        }
        return n.textValue();
    }

    static JsonNode array(JsonNode parent, String name, String where) throws ModelSignatureException {
        JsonNode n = field(parent, name, where);
        if (!n.isArray()) {
            throw malformed(where + "." + name + " is not an array");
        }
        return n;
    }

    /** Decodes standard base64 (RFC 4648 section 4, padded or not), refusing any other character. */
    static byte[] base64(JsonNode parent, String name, String where) throws ModelSignatureException {
        String s = text(parent, name, where);
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw malformed(where + "." + name + " is not standard base64");
        }
    }

    static ModelSignatureException malformed(String message) {
        return new ModelSignatureException(FailureReason.MALFORMED_BUNDLE, message);
    }
}
