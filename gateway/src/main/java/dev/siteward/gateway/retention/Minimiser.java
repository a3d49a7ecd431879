package dev.siteward.gateway.retention;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.policies.retention.ClassRule;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Applies a class's minimisation to one record before anything is written: fields the class does not declare are
 * refused (the record is rejected, nothing stored), dropped fields are removed, hashed fields are replaced by the
 * keyed hash of their JSON text.
 */
final class Minimiser {

    private Minimiser() {
    }

    /** A new, minimised copy of {@code record}. */
    static ObjectNode apply(ClassRule rule, ObjectNode record, MinimisationKey key) throws GatewayException {
        List<String> unknown = new ArrayList<>();
        record.fieldNames().forEachRemaining(f -> {
            if (!rule.fields().contains(f)) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            throw new GatewayException(Reason.DATA_UNKNOWN_FIELD, "field(s) " + String.join(", ", unknown)
                    + " not declared for class " + rule.dataClass().id() + " (declared: "
                    + String.join(", ", rule.fields().stream().sorted().toList()) + ")");
        }
        ObjectNode out = record.objectNode();
        Iterator<Map.Entry<String, JsonNode>> it = record.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (rule.drop().contains(e.getKey())) {
                continue;
            }
            if (rule.hash().contains(e.getKey())) {
                JsonNode v = e.getValue();
                out.put(e.getKey(), key.hash(v.isTextual() ? v.asText() : v.toString()));
            } else {
                out.set(e.getKey(), e.getValue());
            }
        }
        return out;
    }
}
