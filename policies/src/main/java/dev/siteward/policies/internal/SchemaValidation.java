package dev.siteward.policies.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.siteward.policies.PolicyException;
import dev.siteward.policies.PolicyException.Problem;
import dev.siteward.policies.PolicyException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/** Validates a {@link YamlDocument} against one of the bundled JSON Schemas and maps errors to file:line:column. */
public final class SchemaValidation {

    /** Classpath folder holding the schemas (copied from {@code policies/schema/}). */
    public static final String SCHEMA_FOLDER = "/dev/siteward/policies/schema/";
    /** Schema of policy files. */
    public static final SchemaValidation POLICY = new SchemaValidation("policy-v1.schema.json");
    /** Schema of test case files. */
    public static final SchemaValidation TESTS = new SchemaValidation("policy-tests-v1.schema.json");

    /** The only schemaVersion this library reads. */
    public static final int SCHEMA_VERSION = 1;

    private final JsonSchema schema;

    private SchemaValidation(String name) {
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().pathType(PathType.JSON_POINTER).build();
        try (InputStream in = SchemaValidation.class.getResourceAsStream(SCHEMA_FOLDER + name)) {
            if (in == null) {
                throw new IllegalStateException("schema missing from classpath: " + name);
            }
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns every schema problem of {@code doc}, in line order; empty when the document is valid. */
    public List<Problem> validate(YamlDocument doc) {
        JsonNode root = doc.root();
        if (!root.isObject()) {
            return List.of(new Problem(Reason.SCHEMA, doc.at(""), "the file must be a mapping with schemaVersion"));
        }
        JsonNode v = root.get("schemaVersion");
        if (v == null) {
            return List.of(new Problem(Reason.SCHEMA_VERSION, doc.at(""),
                    "missing schemaVersion (this library reads schemaVersion " + SCHEMA_VERSION + ")"));
        }
        if (!v.isIntegralNumber() || v.asInt() != SCHEMA_VERSION) {
            return List.of(new Problem(Reason.SCHEMA_VERSION, doc.at("/schemaVersion"),
                    "unsupported schemaVersion " + v + " (this library reads " + SCHEMA_VERSION + ")"));
        }
        Set<ValidationMessage> messages = schema.validate(root);
        List<Problem> out = new ArrayList<>();
        for (ValidationMessage m : messages) {
            out.add(toProblem(doc, m));
        }
        out.sort(Comparator.comparingInt((Problem p) -> p.location().line())
                .thenComparingInt(p -> p.location().column()));
        // oneOf/anyOf style duplicates at the same place add noise: keep the first message per location and reason
        List<Problem> unique = new ArrayList<>();
        for (Problem p : out) {
            if (unique.stream().noneMatch(u -> u.location().equals(p.location()) && u.reason() == p.reason()
                    && u.message().equals(p.message()))) {
                unique.add(p);
            }
        }
        return unique;
    }

    /** Throws a {@link PolicyException} with every schema problem of {@code doc}, if any. */
    public void require(YamlDocument doc) {
        List<Problem> problems = validate(doc);
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
    }

    private static Problem toProblem(YamlDocument doc, ValidationMessage m) {
        String ptr = pointer(m.getInstanceLocation());
        String where = ptr.isEmpty() ? "the top level" : ptr;
        switch (m.getType()) {
            case "additionalProperties": {
                String key = m.getProperty();
                return new Problem(Reason.UNKNOWN_KEY, doc.keyAt(ptr + "/" + key),
                        "unknown key '" + key + "' in " + where);
            }
            case "required":
                return new Problem(Reason.SCHEMA, doc.at(ptr), "missing required key '" + m.getProperty() + "' in "
                        + where);
            case "type":
                return new Problem(Reason.SCHEMA, doc.at(ptr), "wrong type at " + where + ": " + detail(m, ptr)
                        + quoteHint(ptr, m.getInstanceNode()));
            case "pattern":
                return new Problem(Reason.SCHEMA, doc.at(ptr), patternHint(ptr, m.getInstanceNode()));
            default:
                return new Problem(Reason.SCHEMA, doc.at(ptr), where + ": " + detail(m, ptr));
        }
    }

    /** Suggests quotes when YAML read a scalar meant as a string as a number or boolean ({@code 0042}, {@code yes}). */
    private static String quoteHint(String ptr, JsonNode value) {
        if (value == null || !(value.isNumber() || value.isBoolean())) {
            return "";
        }
        if (ptr.endsWith("/from") || ptr.endsWith("/to")) {
            return " (write times of day in quotes: \"18:00\")";
        }
        return " (YAML read it as a " + (value.isNumber() ? "number" : "boolean") + "; put it in quotes)";
    }

    /** Says what a value that failed a schema pattern should look like. */
    private static String patternHint(String ptr, JsonNode value) {
        String v = "'" + (value == null ? "" : value.asText()) + "'";
        if (ptr.endsWith("/id")) {
            return "rule id " + v + " must start with a lower-case letter or digit and use only a-z 0-9 . _ -";
        }
        if (ptr.endsWith("/per") || ptr.endsWith("/certificateMaxAge")) {
            return v + " is not a duration; write a number and a unit: 90s, 15m, 12h, 30d";
        }
        if (ptr.contains("/days/")) {
            return v + " is not a day; use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri";
        }
        if (ptr.endsWith("/from") || ptr.endsWith("/to")) {
            return v + " is not a time of day; write HH:MM in quotes, e.g. \"06:00\"";
        }
        return ptr + ": " + v + " has the wrong form";
    }

    /** Returns the validator's message without its leading instance path ({@code /rules/0/effect: }). */
    private static String detail(ValidationMessage m, String ptr) {
        String msg = m.getMessage();
        String prefix = ptr + ": ";
        if (msg.startsWith(prefix)) {
            return msg.substring(prefix.length());
        }
        int i = msg.indexOf(": ");
        return msg.startsWith("/") && i >= 0 ? msg.substring(i + 2) : msg;
    }

    private static String pointer(JsonNodePath path) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < path.getNameCount(); i++) {
            Object e = path.getElement(i);
            sb.append('/').append(String.valueOf(e).replace("~", "~0").replace("/", "~1"));
        }
        return sb.toString();
    }
}
