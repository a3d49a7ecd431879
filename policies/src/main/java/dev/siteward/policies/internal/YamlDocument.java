package dev.siteward.policies.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.siteward.policies.PolicyException;
import dev.siteward.policies.PolicyException.Reason;
import dev.siteward.policies.SourceLocation;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * One YAML file read into a Jackson tree, remembering the line and column of every value and key by JSON Pointer.
 *
 * <p>Refuses duplicate keys and more than one document per file ({@code policy.syntax}).
 */
public final class YamlDocument {

    private static final YAMLFactory YAML = YAMLFactory.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Path file;
    private final JsonNode root;
    private final Map<String, SourceLocation> values;
    private final Map<String, SourceLocation> keys;

    private YamlDocument(Path file, JsonNode root, Map<String, SourceLocation> values,
                         Map<String, SourceLocation> keys) {
        this.file = file;
        this.root = root;
        this.values = values;
        this.keys = keys;
    }

    /** Reads and parses {@code file}; throws {@code policy.io} or {@code policy.syntax} with line and column. */
    public static YamlDocument read(Path file) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(file, in);
        } catch (PolicyException e) {
            throw e;
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new PolicyException(Reason.SYNTAX, l == null ? SourceLocation.of(file)
                    : new SourceLocation(file, l.getLineNr(), l.getColumnNr()), firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new PolicyException(Reason.IO, SourceLocation.of(file), "cannot read file: " + e.getMessage());
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "malformed YAML";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    private static YamlDocument parse(Path file, Reader in) throws IOException {
        Map<String, SourceLocation> values = new HashMap<>();
        Map<String, SourceLocation> keys = new HashMap<>();
        try (JsonParser p = YAML.createParser(in)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new PolicyException(Reason.SYNTAX, new SourceLocation(file, 1, 1), "the file is empty");
            }
            JsonNode root = readValue(file, p, "", values, keys);
            JsonToken extra = p.nextToken();
            if (extra != null) {
                throw new PolicyException(Reason.SYNTAX, loc(file, p.currentTokenLocation()),
                        "only one YAML document per file is allowed");
            }
            return new YamlDocument(file, root, values, keys);
        }
    }

    private static JsonNode readValue(Path file, JsonParser p, String ptr, Map<String, SourceLocation> values,
                                      Map<String, SourceLocation> keys) throws IOException {
        values.put(ptr, loc(file, p.currentTokenLocation()));
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT: {
                ObjectNode o = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    String childPtr = ptr + "/" + escape(name);
                    SourceLocation keyLoc = loc(file, p.currentTokenLocation());
                    if (o.has(name)) {
                        throw new PolicyException(Reason.SYNTAX, keyLoc, "duplicate key '" + name + "' (first at line "
                                + keys.get(childPtr).line() + ")");
                    }
                    keys.put(childPtr, keyLoc);
                    p.nextToken();
                    o.set(name, readValue(file, p, childPtr, values, keys));
                }
                return o;
            }
            case START_ARRAY: {
                ArrayNode a = NODES.arrayNode();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.add(readValue(file, p, ptr + "/" + i++, values, keys));
                }
                return a;
            }
            case VALUE_STRING:
                return NODES.textNode(p.getText());
            case VALUE_NUMBER_INT:
                return NODES.numberNode(p.getBigIntegerValue());
            case VALUE_NUMBER_FLOAT:
                return NODES.numberNode(p.getDecimalValue());
            case VALUE_TRUE:
                return NODES.booleanNode(true);
            case VALUE_FALSE:
                return NODES.booleanNode(false);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                throw new PolicyException(Reason.SYNTAX, loc(file, p.currentTokenLocation()),
                        "unsupported YAML content " + t);
        }
    }

    private static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }

    private static SourceLocation loc(Path file, JsonLocation l) {
        return new SourceLocation(file, l.getLineNr(), l.getColumnNr());
    }

    /** Returns the file this document was read from. */
    public Path file() {
        return file;
    }

    /** Returns the tree. */
    public JsonNode root() {
        return root;
    }

    /** Returns where the value at {@code pointer} starts, or the nearest enclosing value's location. */
    public SourceLocation at(String pointer) {
        String p = pointer;
        while (true) {
            SourceLocation l = values.get(p);
            if (l != null) {
                return l;
            }
            if (p.isEmpty()) {
                return SourceLocation.of(file);
            }
            p = p.substring(0, Math.max(0, p.lastIndexOf('/')));
        }
    }

    /** Returns where the key of the member at {@code pointer} is written, else {@link #at(String)}. */
    public SourceLocation keyAt(String pointer) {
        SourceLocation l = keys.get(pointer);
        return l != null ? l : at(pointer);
    }
}
