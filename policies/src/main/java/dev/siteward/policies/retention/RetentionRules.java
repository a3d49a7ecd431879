package dev.siteward.policies.retention;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The retention rules of a bundle: one {@link ClassRule} per configured data class and the legal holds. A class
 * without a rule is not accepted for storage (deny by default) and nothing of it is exported.
 */
public final class RetentionRules {

    /** No retention section: no class is accepted, nothing is exported. */
    public static final RetentionRules NONE = new RetentionRules(Map.of(), List.of());

    private final Map<DataClass, ClassRule> classes;
    private final List<LegalHold> holds;

    public RetentionRules(Map<DataClass, ClassRule> classes, List<LegalHold> holds) {
        EnumMap<DataClass, ClassRule> m = new EnumMap<>(DataClass.class);
        m.putAll(classes);
        this.classes = Collections.unmodifiableMap(m);
        this.holds = List.copyOf(holds);
    }

    public Optional<ClassRule> rule(DataClass c) {
        return Optional.ofNullable(classes.get(c));
    }

    public Map<DataClass, ClassRule> classes() {
        return classes;
    }

    public List<LegalHold> holds() {
        return holds;
    }

    /** The holds that apply to a class. */
    public List<LegalHold> holds(DataClass c) {
        return holds.stream().filter(h -> h.covers(c)).toList();
    }

    public boolean isEmpty() {
        return classes.isEmpty() && holds.isEmpty();
    }
}
